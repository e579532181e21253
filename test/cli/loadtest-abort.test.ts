// `loadwatch loadtest` with an abort threshold: the run stops once it is lost, and the command says which and when.

import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

describe('loadwatch loadtest --threshold "…:abort"', () => {
  const dataDir = scratchDataDir('loadtest-abort-cli');
  let database: TestDatabase;
  let server: Server;
  let target: string;
  let requests = 0;

  beforeAll(async () => {
    database = await createTestDatabase();
    // Fast for its first 100 requests, then 600 ms an answer.
    server = createServer((_, response) => {
      requests++;
      setTimeout(() => response.end('ok'), requests > 100 ? 600 : 1);
    });
    target = await listenLocally(server);
  });
  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await database?.drop();
    dataDir.remove();
  });

  it('exits 1 naming the abort threshold that stopped the run and when, long before its schedule ends', async () => {
    const started = Date.now();
    const { code, output } = await runCli(
      ['loadtest', '--target', target, '--rate', '50', '--duration', '60', '--workers', '2'].concat([
        '--threshold',
        'p99<300:abort',
      ]),
      { DATABASE_URL: database.url, LOADWATCH_DATA_DIR: dataDir.path },
    );
    expect(code).toBe(1);
    expect(output).toMatch(
      /: ABORTED, grade [A-F]: it was aborted: threshold p99<300ms:abort lost [\d.]+ s into the run/,
    );
    expect(output).toMatch(
      /aborted by its threshold: threshold p99<300ms:abort lost [\d.]+ s into the run \(actual [\d.]+ ms\)/,
    );
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(requests).toBeLessThan(50 * 20);
  });
});
