// The database a command works on (DATABASE_URL's, the running stack's, or one started for the command), migrated
// to the latest version before the command reads or writes it.

import type { Config, DatabaseTarget } from '../config/config.ts';
import { runMigrations } from '../db/migration-runner.ts';
import { createDb, type Db } from '../db/pool.ts';
import { acquireLocalDatabase } from '../local/stack.ts';

export interface CommandDatabase {
  db: Db;
  target: DatabaseTarget;
  /** Closes the pool, then lets go of the database (an embedded one started for the command stops). */
  close(): Promise<void>;
}

/**
 * A small pool for one command, named `loadwatch-<command>` in pg_stat_activity: no statement timeout and no
 * recycling, a command's queries are its own and it ends soon.
 */
export async function openCommandDatabase(
  config: Config,
  command: string,
  pool: { size: number; maxOverflow: number },
): Promise<CommandDatabase> {
  const database = await acquireLocalDatabase(config, command);
  const db = createDb({
    target: database.target,
    pool: { ...pool, recycleSeconds: 0, timeoutSeconds: 30, statementTimeoutMs: 0 },
    applicationName: `loadwatch-${command}`,
  });
  const close = async () => {
    await db.close();
    await database.release();
  };
  try {
    await runMigrations({ target: database.target, direction: 'up' });
  } catch (error) {
    await close();
    throw error;
  }
  return { db, target: database.target, close };
}
