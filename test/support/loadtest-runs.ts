// Load-test runs aged in the database, as if the process running them had died some time ago.

import type { TestDatabase } from './database.ts';

/** Moves a run's creation, start and last heartbeat `secondsAgo` into the past. */
export async function backdateRun(database: TestDatabase, runId: string, secondsAgo: number): Promise<void> {
  await database.admin(
    `UPDATE loadtest_runs
        SET created_at = now() - make_interval(secs => $2), started_at = now() - make_interval(secs => $2),
            heartbeat_at = now() - make_interval(secs => $2)
      WHERE id = $1`,
    [runId, secondsAgo],
  );
}
