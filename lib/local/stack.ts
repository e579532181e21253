// The local stack: embedded (or given) PostgreSQL, migrations, and the API on localhost, stopped as one.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConsoleSink } from '../alerts/console.ts';
import { createApi } from '../api/create-api.ts';
import { issueToken } from '../auth/tokens.ts';
import type { Config, DatabaseTarget } from '../config/config.ts';
import { runMigrations } from '../db/migration-runner.ts';
import { listMigrations } from '../db/migrations.ts';
import type { Db } from '../db/pool.ts';
import { RDS_CA_BUNDLE } from '../db/rds-ca.ts';
import { createReplicaDb } from '../db/read-replica.ts';
import { EXIT, LoadwatchError } from '../errors.ts';
import { createLocalStarter } from '../loadtest/local-runner.ts';
import { LoadTestStore } from '../loadtest/store.ts';
import { refuseDatabasePort } from '../loadtest/target-rules.ts';
import type { Logger } from '../log/logger.ts';
import { runMonitor } from '../monitor/runner.ts';
import { monitorDefinition, monitorDeps } from '../monitor/service.ts';
import { LOOPBACK_HOSTS } from './allowed-hosts.ts';
import {
  postgresDataDir,
  processAlive,
  type StartEmbeddedOptions,
  type SupervisionEvent,
  startEmbeddedPostgres,
} from './embedded-postgres.ts';
import { closeServer, createLocalServer } from './http-adapter.ts';

/** Refusals of what was asked (exit 2, like bad usage), as opposed to failures of the machine (exit 1). */
const REFUSALS: ReadonlySet<string> = new Set(['PORT_IN_USE', 'STACK_RUNNING']);

export class LocalStackError extends LoadwatchError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, { ...options, code, exitCode: REFUSALS.has(code) ? EXIT.usage : EXIT.failed });
    this.name = 'LocalStackError';
  }
}

/** The project's root: the nearest directory above this file holding package.json. */
export function projectRoot(start = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

/** Where the local stack serves the API (PORT). */
export const localApiUrl = (config: Config) => `http://localhost:${config.port}`;

export function dataDirectory(config: Config): string {
  return isAbsolute(config.dataDir) ? config.dataDir : resolve(projectRoot(), config.dataDir);
}

/** Written while a loadwatch process owns the embedded database, so other commands can find or avoid it. */
export interface StackState {
  pid: number;
  /** 'stack' for npm start; otherwise the command that started the database for its own length. */
  owner: string;
  databaseUrl: string | null;
  apiUrl: string | null;
  /** The bearer token for the API's write endpoints (local stack only). */
  token?: string;
  startedAt: string;
}

function stateFile(dataDir: string): string {
  return join(dataDir, 'stack.json');
}

/** The state of a live loadwatch process on this data directory, or null. */
export function readStackState(dataDir: string): StackState | null {
  const state = readStackStateRaw(dataDir);
  return state && state.pid !== process.pid && processAlive(state.pid) ? state : null;
}

/** Readable by the owner only: the state holds the database URL and the API token. */
function writeStackState(dataDir: string, state: StackState): void {
  writeFileSync(stateFile(dataDir), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

function claimStackState(dataDir: string, state: StackState): () => void {
  const running = readStackState(dataDir);
  if (running) {
    const what =
      running.owner === 'stack' ? `the local stack (${running.apiUrl})` : `"loadwatch ${running.owner}"`;
    throw new LocalStackError(
      'STACK_RUNNING',
      `${what} is already running on ${dataDir} (pid ${running.pid}); stop it first, or set LOADWATCH_DATA_DIR to another directory`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  writeStackState(dataDir, state);
  return () => {
    const current = readStackStateRaw(dataDir);
    if (current?.pid === process.pid) rmSync(stateFile(dataDir), { force: true });
  };
}

/** The state file as written, whether or not its process still runs; null when there is none. */
function readStackStateRaw(dataDir: string): StackState | null {
  try {
    return JSON.parse(readFileSync(stateFile(dataDir), 'utf8')) as StackState | null;
  } catch {
    return null;
  }
}

export function urlTarget(url: string): DatabaseTarget {
  const parsed = new URL(url);
  return {
    label: `${parsed.hostname}:${parsed.port}${parsed.pathname}`,
    url,
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    database: parsed.pathname.slice(1),
    user: decodeURIComponent(parsed.username),
    auth: { kind: 'url' },
    ssl: 'disable',
    via: 'url',
  };
}

export interface LocalDatabase {
  target: DatabaseTarget;
  /** Where it came from, for the start-up banner. */
  source: 'configured' | 'embedded (started)' | 'embedded (running stack)';
  /** The embedded PostgreSQL's data directory; unset for a configured database. */
  dataDir?: string;
  release(): Promise<void>;
}

/** What the person at the terminal must see, beside the log. */
const toStderr = (text: string) => process.stderr.write(text);

/**
 * A one-line notice when a loadwatch stack answers on the configured port although none runs on this data
 * directory: what this command records in its own database will not show up in that stack. It reads only the
 * public /health, so nothing of either stack is disclosed.
 */
async function otherStackNotice(config: Config, dataDir: string): Promise<string | null> {
  const url = localApiUrl(config);
  try {
    const response = await fetch(`http://127.0.0.1:${config.port}/health`, {
      signal: AbortSignal.timeout(1_000),
    });
    const body = (await response.json()) as { status?: unknown; service?: unknown };
    if (body.status !== 'ok' || typeof body.service !== 'string') return null;
  } catch {
    return null;
  }
  return `loadwatch: a loadwatch stack answers on ${url}, but not from this data directory (${dataDir}): this command uses a PostgreSQL of its own, and what it records will not show up in that stack (/v1/loadtests); run it from that stack's project or set LOADWATCH_DATA_DIR to its data directory`;
}

/**
 * The database a local command should use: DATABASE_URL when set; else the embedded PostgreSQL of a
 * running stack; else one started for the length of the command.
 */
export async function acquireLocalDatabase(
  config: Config,
  owner: string,
  // Only the stack supervises its server: a short command's ends with it.
  embedded: Pick<StartEmbeddedOptions, 'onLog' | 'onSupervision'> = {},
) {
  if (config.database.mode === 'external') {
    const configured =
      owner === 'stack' ? config.database.api : (config.database.migrations ?? config.database.api);
    // A command line may reach an RDS instance directly.
    const target = { ...configured, rdsCa: RDS_CA_BUNDLE };
    return { target, source: 'configured', release: async () => undefined } satisfies LocalDatabase;
  }
  const dataDir = dataDirectory(config);
  if (owner !== 'stack') {
    const running = readStackState(dataDir);
    if (running?.databaseUrl) {
      return {
        target: urlTarget(running.databaseUrl),
        source: 'embedded (running stack)',
        dataDir: postgresDataDir(dataDir),
        release: async () => undefined,
      } satisfies LocalDatabase;
    }
    const notice = await otherStackNotice(config, dataDir);
    if (notice) toStderr(`${notice}\n`);
  }
  const releaseState = claimStackState(dataDir, {
    pid: process.pid,
    owner,
    databaseUrl: null,
    apiUrl: null,
    startedAt: new Date().toISOString(),
  });
  const handle = await startEmbeddedPostgres({ ...embedded, dataDir }).catch((error: unknown) => {
    releaseState();
    throw error;
  });
  const state = readStackStateRaw(dataDir);
  if (state) writeStackState(dataDir, { ...state, databaseUrl: handle.url });
  return {
    target: urlTarget(handle.url),
    source: 'embedded (started)',
    dataDir: handle.dataDir,
    release: async () => {
      await handle.stop();
      releaseState();
    },
  } satisfies LocalDatabase;
}

/** Where the embedded PostgreSQL keeps its data, for the banner; null for a configured database. */
export function describeDataLocation(config: Config, database: LocalDatabase): string | null {
  if (!database.dataDir) return null;
  const inside = database.dataDir.startsWith(`${dataDirectory(config)}/`);
  return inside
    ? database.dataDir
    : `${database.dataDir}   (outside the project: the OS user postgres cannot enter ${dataDirectory(config)})`;
}

/** The console line for each step of the embedded PostgreSQL's supervision. */
function describeSupervision(event: SupervisionEvent): string {
  switch (event.kind) {
    case 'down':
      return `PostgreSQL (pid ${event.pid}) stopped unexpectedly (${event.reason}); the API answers 503 until it is back`;
    case 'restarting':
      return `restarting PostgreSQL in ${event.delayMs / 1000}s (attempt ${event.attempt} of ${event.attempts})`;
    case 'back':
      return `PostgreSQL is back (pid ${event.pid}) after ${(event.downForMs / 1000).toFixed(1)}s`;
    case 'gave-up':
      return `PostgreSQL could not be restarted after ${event.attempts} attempts; stop the stack (Ctrl-C) and start it again. ${event.error.message.split('\n')[0]}`;
  }
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolveListen, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new LocalStackError(
              'PORT_IN_USE',
              `port ${port} is already in use; stop what uses it or set PORT`,
            )
          : error,
      );
    });
    server.listen(port, '127.0.0.1', () => resolveListen());
  });
}

/** Runs the monitor on its schedule inside the local stack, as the scheduled Lambda does when deployed. */
function startLocalMonitor(config: Config, db: Db, logger: Logger, apiUrl: string) {
  const controller = new AbortController();
  const definition = monitorDefinition(config, apiUrl);
  const deps = monitorDeps({ config, db, logger, alerts: createConsoleSink(toStderr) });
  const running = runMonitor(definition, deps, {
    intervalSeconds: config.monitor.intervalSeconds,
    signal: controller.signal,
    onCycleError: (error) => logger.error('monitor cycle failed; trying again next cycle', { error }),
  }).catch((error: unknown) => logger.error('local monitor stopped', { error }));
  return async () => {
    controller.abort();
    await running;
  };
}

export type LocalStack = Awaited<ReturnType<typeof startLocalStack>>;

export async function startLocalStack(config: Config, logger: Logger) {
  const database = await acquireLocalDatabase(config, 'stack', {
    onLog: (line) => logger.debug(line, { component: 'postgres' }),
    onSupervision: (event) => {
      const text = describeSupervision(event);
      // The console, not only the log: a person watching the stack must see its database go and come back.
      toStderr(`${text}\n`);
      const level = event.kind === 'back' ? 'info' : event.kind === 'restarting' ? 'debug' : 'error';
      logger[level](text, { component: 'postgres', event: event.kind });
    },
  });
  const cleanups: Array<() => Promise<unknown>> = [() => database.release()];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const cleanup of cleanups.reverse().splice(0)) await cleanup().catch(() => undefined);
  };
  try {
    const appliedMigrations = await runMigrations({
      target: database.target,
      direction: 'up',
      log: (line) => logger.debug(line, { component: 'migrate' }),
    });
    const db = createReplicaDb({
      target: database.target,
      // DATABASE_READ_URL beside DATABASE_URL: the API's lag-tolerant reads go there, as on Lambda.
      ...(config.database.mode === 'external' && config.database.reader
        ? { reader: config.database.reader }
        : {}),
      onReaderDown: (error) => logger.warn('read replica unavailable; reads go to the writer', { error }),
      pool: config.pool,
      applicationName: 'loadwatch-local',
      onIdleError: (error) => {
        if (!stopping) logger.warn('idle database connection failed', { error });
      },
    });
    cleanups.push(() => db.close());
    const loadTests = new LoadTestStore(db, { retention: config.retention });
    const handler = createApi({
      config: { ...config, loadtest: refuseDatabasePort(config.loadtest, database.target) },
      db,
      logger,
      knownMigrations: listMigrations(),
      starter: createLocalStarter({ store: loadTests, logger }),
    });
    const token = await issueToken(db, 'local-stack');
    const server = createLocalServer({
      handler,
      allowedHosts: [...LOOPBACK_HOSTS, ...config.localAllowedHosts],
      onError: (error) => logger.error('handler failed', { error }),
    });
    await listen(server, config.port);
    cleanups.push(() => closeServer(server));
    const apiUrl = localApiUrl(config);
    cleanups.push(startLocalMonitor(config, db, logger, apiUrl));
    const dataDir = dataDirectory(config);
    const state = readStackStateRaw(dataDir);
    if (state?.pid === process.pid) {
      writeStackState(dataDir, { ...state, apiUrl, token });
    } else if (config.database.mode === 'external') {
      const release = claimStackState(dataDir, {
        pid: process.pid,
        owner: 'stack',
        databaseUrl: null,
        apiUrl,
        token,
        startedAt: new Date().toISOString(),
      });
      cleanups.push(async () => release());
    }
    return { apiUrl, token, database, db, appliedMigrations, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
