// The API served on 127.0.0.1 through the local adapter, with its log lines captured for assertions.

import type { Server } from 'node:http';
import { createApi } from '../../lib/api/create-api.ts';
import { type Env, loadConfig } from '../../lib/config/config.ts';
import { listMigrations } from '../../lib/db/migrations.ts';
import type { Db } from '../../lib/db/pool.ts';
import { createReplicaDb } from '../../lib/db/read-replica.ts';
import type { ExecutionStarter } from '../../lib/loadtest/launcher.ts';
import { createLocalStarter } from '../../lib/loadtest/local-runner.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { refuseDatabasePort } from '../../lib/loadtest/target-rules.ts';
import { createLocalServer } from '../../lib/local/http-adapter.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { listenLocally } from './listen.ts';

export interface RunningApi {
  url: string;
  db: Db;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startApiServer(
  env: Env,
  options: { knownMigrations?: string[]; starter?: ExecutionStarter } = {},
): Promise<RunningApi> {
  const config = loadConfig(env);
  if (config.database.mode !== 'external') throw new Error('startApiServer needs DATABASE_URL');
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) });
  const db = createReplicaDb({
    target: config.database.api,
    ...(config.database.reader ? { reader: config.database.reader } : {}),
    pool: config.pool,
    applicationName: 'lw-api-test',
  });
  const handler = createApi({
    config: { ...config, loadtest: refuseDatabasePort(config.loadtest, config.database.api) },
    db,
    logger,
    knownMigrations: options.knownMigrations ?? listMigrations(),
    starter: options.starter ?? createLocalStarter({ store: new LoadTestStore(db), logger }),
  });
  // Every Host reaches the API here, so that its own defences against a spoofed Host can be tested.
  const server: Server = createLocalServer({ handler, allowedHosts: 'any' });
  const url = await listenLocally(server);
  return {
    url,
    db,
    logs,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}
