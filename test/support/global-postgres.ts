// One real PostgreSQL for the whole test run: TEST_DATABASE_URL, or an embedded one started here.

import type { TestProject } from 'vitest/node';
import { type EmbeddedPostgresHandle, startEmbeddedPostgres } from '../../lib/local/embedded-postgres.ts';
import { projectRoot } from '../../lib/local/stack.ts';

let handle: EmbeddedPostgresHandle | undefined;

export default async function setup(project: TestProject) {
  let url = process.env.TEST_DATABASE_URL;
  if (!url) {
    const lines: string[] = [];
    handle = await startEmbeddedPostgres({
      dataDir: `${projectRoot()}/.loadwatch/test`,
      database: 'postgres',
      onLog: (line) => lines.push(line),
    });
    url = handle.url;
  }
  project.provide('databaseUrl', url);
  return async () => {
    await handle?.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}
