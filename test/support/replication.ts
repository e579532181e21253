// A primary and a streaming standby from the embedded PostgreSQL binaries: the standby is a cold copy of the
// stopped primary's data directory with standby.signal and primary_conninfo, which needs no pg_basebackup.

import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import {
  type EmbeddedPostgresHandle,
  postgresDataDir,
  removeDataDirectory,
  startEmbeddedPostgres,
} from '../../lib/local/embedded-postgres.ts';

export interface ReplicatedPostgres {
  primary: EmbeddedPostgresHandle;
  standby: EmbeddedPostgresHandle;
  /** Runs SQL as the superuser on one server, on its own connection. */
  sql<T extends pg.QueryResultRow = pg.QueryResultRow>(
    server: EmbeddedPostgresHandle,
    text: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<T>>;
  /** Promotes the standby to a writer and resolves once it accepts writes. */
  promote(): Promise<void>;
  /** Stops both servers (whatever state they are in) and removes their data. */
  stop(): Promise<void>;
}

export interface ReplicationOptions {
  database: string;
  /** Runs on the primary before it is copied (migrations): the standby starts with it. */
  prepare?: (url: string) => Promise<void>;
  /** Commits wait for the standby, as RDS Multi-AZ's synchronous replication: no acknowledged write is lost. */
  synchronous?: boolean;
  onLog?: (line: string) => void;
}

const STREAMING_TIMEOUT_MS = 20_000;

/** Starts a primary and a standby streaming from it; every server is stopped again if any step fails. */
export async function startReplicatedPostgres(options: ReplicationOptions): Promise<ReplicatedPostgres> {
  const primaryDir = mkdtempSync(join(tmpdir(), 'loadwatch-primary-'));
  const standbyDir = mkdtempSync(join(tmpdir(), 'loadwatch-standby-'));
  const handles: EmbeddedPostgresHandle[] = [];
  const stop = async () => {
    await Promise.all(handles.map((handle) => handle.stop().catch(() => undefined)));
    removeDataDirectory(primaryDir);
    removeDataDirectory(standbyDir);
  };
  const start = async (dataDir: string, port?: number) => {
    const handle = await startEmbeddedPostgres({
      dataDir,
      database: options.database,
      ...(port === undefined ? {} : { port }),
      ...(options.onLog ? { onLog: options.onLog } : {}),
    });
    handles.push(handle);
    return handle;
  };
  const sql = async <T extends pg.QueryResultRow>(
    server: EmbeddedPostgresHandle,
    text: string,
    params?: unknown[],
  ) => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      return await client.query<T>(text, params);
    } finally {
      await client.end();
    }
  };
  try {
    const first = await start(primaryDir);
    await options.prepare?.(first.url);
    await first.stop();
    // The cold copy: the stopped primary's data directory, owned like the original (the postgres OS user as root).
    const standbyData = postgresDataDir(standbyDir);
    rmSync(standbyData, { recursive: true, force: true });
    cpSync(first.dataDir, standbyData, { recursive: true });
    copyFileSync(join(primaryDir, 'pg-password'), join(standbyDir, 'pg-password'));
    const password = decodeURIComponent(new URL(first.url).password);
    writeFileSync(join(standbyData, 'standby.signal'), '');
    appendFileSync(
      join(standbyData, 'postgresql.auto.conf'),
      `primary_conninfo = 'host=127.0.0.1 port=${first.port} user=postgres password=${password} application_name=standby'\n`,
    );
    const owner = statSync(first.dataDir);
    execFileSync('chown', ['-R', `${owner.uid}:${owner.gid}`, standbyData]);
    execFileSync('chmod', ['700', standbyData]);

    const primary = await start(primaryDir, first.port);
    if (options.synchronous) {
      await sql(primary, `ALTER SYSTEM SET synchronous_standby_names = 'standby'`);
      await sql(primary, 'SELECT pg_reload_conf()');
    }
    const standby = await start(standbyDir);
    const deadline = Date.now() + STREAMING_TIMEOUT_MS;
    for (;;) {
      const streaming = await sql<{ sync_state: string }>(
        primary,
        `SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby' AND state = 'streaming'`,
      );
      const state = streaming.rows[0]?.sync_state;
      if (state !== undefined && (!options.synchronous || state === 'sync')) break;
      if (Date.now() > deadline)
        throw new Error(`the standby was not streaming within ${STREAMING_TIMEOUT_MS} ms`);
      await delay(100);
    }
    return {
      primary,
      standby,
      sql,
      async promote() {
        await sql(standby, 'SELECT pg_promote(true, 30)');
        for (;;) {
          const recovery = await sql<{ standby: boolean }>(standby, 'SELECT pg_is_in_recovery() AS standby');
          if (recovery.rows[0]?.standby === false) return;
          await delay(50);
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
