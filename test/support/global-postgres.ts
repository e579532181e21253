// One real PostgreSQL for the whole test run: TEST_DATABASE_URL, or an embedded one started here.

import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../lib/local/embedded-postgres.ts';
import { projectRoot } from '../../lib/local/stack.ts';

let handle: EmbeddedPostgresHandle | undefined;
let dataDir: string | undefined;

export default async function setup(project: TestProject) {
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    const lines: string[] = [];
    // A directory per run, so that two test runs at once never share (or stop) one server.
    dataDir = `${projectRoot()}/.loadwatch/test-${process.pid}`;
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
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}
