import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot, urlTarget } from '../../lib/local/stack.ts';
import { testPool } from '../support/database.ts';

const run = promisify(execFile);

/** A fresh process that notes every resolution of 'pg' while it creates a pool, reads its stats, then queries. */
const SCRIPT = `
  import { registerHooks } from 'node:module';
  let resolved = 0;
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier === 'pg') resolved += 1;
      return next(specifier, context);
    },
  });
  const { createDb } = await import(process.argv[1]);
  const db = createDb({
    target: { label: 'nothing', url: 'postgres://u:p@127.0.0.1:1/x', ssl: 'url', auth: { kind: 'url' }, via: 'url' },
    pool: { size: 1, maxOverflow: 0, recycleSeconds: 0, timeoutSeconds: 1, statementTimeoutMs: 0 },
  });
  const beforeQuery = { resolved, stats: db.stats() };
  const error = await db.query('SELECT 1').then(() => null, (failure) => failure.code);
  await db.close();
  console.log(JSON.stringify({ beforeQuery, error, afterQuery: resolved }));
`;

describe('createDb', () => {
  it('loads pg with the first connection, not with the pool, so a cold start that never queries skips it', async () => {
    const pool = pathToFileURL(`${projectRoot()}/lib/db/pool.ts`).href;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT, pool], {
      timeout: 30_000,
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({
      beforeQuery: { resolved: 0, stats: { total: 0, idle: 0, waiting: 0, max: 1 } },
      error: 'DB_UNAVAILABLE',
      afterQuery: 1,
    });
  });

  it('closes a pool that never connected without opening one', async () => {
    const db = testPool(urlTarget('postgres://u:p@127.0.0.1:1/x'));
    await db.close();
    await expect(db.query('SELECT 1')).rejects.toThrow('Cannot use a pool after calling end on the pool');
    expect(db.stats().total).toBe(0);
  });
});
