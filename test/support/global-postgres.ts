// One real PostgreSQL for the whole test run: TEST_DATABASE_URL, or an embedded one started here.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  type EmbeddedPostgresHandle,
  postgresDataDir,
  processAlive,
  removeDataDirectory,
  startEmbeddedPostgres,
  stopOrphanedPostmaster,
} from '../../lib/local/embedded-postgres.ts';
import { projectRoot } from '../../lib/local/stack.ts';

let handle: EmbeddedPostgresHandle | undefined;
let dataDir: string | undefined;

/** Test clusters of runs that were killed: their PostgreSQL stopped and their directory removed. */
async function sweepStaleClusters(root: string): Promise<void> {
  if (!existsSync(root)) return;
  for (const entry of readdirSync(root)) {
    const pid = Number(entry.match(/^test-(\d+)$/)?.[1]);
    if (!pid || processAlive(pid)) continue;
    const dir = join(root, entry);
    await stopOrphanedPostmaster(postgresDataDir(dir), () => undefined).catch(() => undefined);
    removeDataDirectory(dir);
  }
}

export default async function setup(project: TestProject) {
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    const root = join(projectRoot(), '.loadwatch');
    await sweepStaleClusters(root);
    // A directory per run, so that two test runs at once never share (or stop) one server.
    dataDir = join(root, `test-${process.pid}`);
    const lines: string[] = [];
    handle = await startEmbeddedPostgres({
      dataDir,
      database: 'postgres',
      onLog: (line) => lines.push(line),
    });
    url = handle.url;
  }
  project.provide('databaseUrl', url);
  return async () => {
    await handle?.stop();
    if (dataDir) removeDataDirectory(dataDir);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}
