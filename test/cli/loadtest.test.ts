import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';

describe('loadwatch loadtest', () => {
  const dataDir = scratchDataDir('loadtest-cli');
  let database: TestDatabase;
  let target: FaultTarget;

  beforeAll(async () => {
    database = await createTestDatabase();
    target = await startFaultTarget();
  });
  afterAll(async () => {
    await target?.close();
    await database?.drop();
    dataDir.remove();
  });

  it('exits 2 naming each header or path a request cannot carry, and sends nothing', async () => {
    const result = await runCli(
      [
        'loadtest',
        '--target',
        target.url,
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
      { DATABASE_URL: database.url, LOADWATCH_DATA_DIR: dataDir.path },
    );
    expect(result.code).toBe(2);
    expect(result.output).toContain(
      'headers: "X-Injected" has a value holding CR (U+000D), which is not allowed',
    );
    expect(result.output).toContain(
      'endpoints[0].path: holds a space (U+0020), which is not allowed; percent-encode it',
    );
    expect(target.requests()).toBe(0);
  });
});
