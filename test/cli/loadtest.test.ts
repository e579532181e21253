// `loadwatch loadtest` as a user runs it: its verdict, its exit code, and a --report path it cannot write.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

describe('loadwatch loadtest', () => {
  const dataDir = scratchDataDir('loadtest-cli');
  const scratch = mkdtempSync(join(tmpdir(), 'loadwatch-report-'));
  let database: TestDatabase;
  let server: Server;
  let target: string;
  let requests = 0;
  const env = () => ({ DATABASE_URL: database.url, LOADWATCH_DATA_DIR: dataDir.path });

  beforeAll(async () => {
    database = await createTestDatabase();
    server = createServer((_, response) => {
      requests++;
      response.end('ok');
    });
    target = await listenLocally(server);
  });
  afterAll(async () => {
    server?.close();
    await database?.drop();
    dataDir.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('fails and exits 1, saying why, when every request failed and no threshold was set', async () => {
    // A port that was free a moment ago refuses every connection.
    const closed = createServer();
    const refused = await listenLocally(closed);
    await new Promise((resolve) => closed.close(resolve));
    const { code, output } = await runCli(
      ['loadtest', '--target', refused, '--users', '1', '--requests', '3'],
      env(),
    );
    expect(output).toContain(
      ': FAILED, grade F: every request failed (errors<100%, the default when no threshold is set)',
    );
    expect(output).toMatch(/FAIL {2}errors<100% \(actual 100\), the default when no threshold is set/);
    expect(code).toBe(1);
  });

  it('refuses a plan that sends no request and a malformed ramp-up, and exits 2', async () => {
    const empty = await runCli(
      ['loadtest', '--target', target, '--rate', '0.0001', '--duration', '3600'],
      env(),
    );
    expect(empty.output).toContain('rate: 0.0001 req/s for 3600s sends no request (0.36 due)');
    expect(empty.code).toBe(2);
    const ramp = await runCli(
      ['loadtest', '--target', target, '--rate', '10', '--duration', '5', '--ramp-up', '::,::'],
      env(),
    );
    expect(ramp.output).toContain('rampUp[0]: "::" is not a stage');
    expect(ramp.code).toBe(2);
  });

  it('refuses a --report path it cannot write before sending any request, and exits 2', async () => {
    const before = requests;
    const missing = join(scratch, 'no-such-directory', 'report.html');
    const inMissing = await runCli(
      ['loadtest', '--target', target, '--users', '1', '--requests', '1', '--report', missing],
      env(),
    );
    expect(inMissing.output).toContain(`--report: cannot write "${missing}": its directory does not exist`);
    expect(inMissing.code).toBe(2);
    const onDirectory = await runCli(
      ['loadtest', '--target', target, '--users', '1', '--requests', '1', '--report', scratch],
      env(),
    );
    expect(onDirectory.output).toContain(`--report: cannot write "${scratch}": it is a directory`);
    expect(onDirectory.code).toBe(2);
    expect(requests).toBe(before);
  });

  it('exits 2 naming each header or path a request cannot carry, and sends nothing', async () => {
    const before = requests;
    const result = await runCli(
      [
        'loadtest',
        '--target',
        target,
        '--users',
        '1',
        '--requests',
        '1',
        '--endpoint',
        '/a b',
        '--endpoint',
        '/ok',
        '--header',
        'X-Injected: one\r\nHost: evil.test',
      ],
      env(),
    );
    expect(result.code).toBe(2);
    expect(result.output).toContain(
      'headers: "X-Injected" has a value holding CR (U+000D), which is not allowed',
    );
    expect(result.output).toContain(
      'endpoints[0].path: holds a space (U+0020), which is not allowed; percent-encode it',
    );
    expect(requests).toBe(before);
  });
});
