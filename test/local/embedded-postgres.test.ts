import { cpSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  freePort,
  removeDataDirectory,
  sharedPostgresDataDir,
  shippedInstallDir,
  startEmbeddedPostgres,
} from '../../lib/local/embedded-postgres.ts';
import { copyProject } from '../deploy/serverless-cli.ts';
import { type CliRun, runCli, startCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';

const asRoot = process.getuid?.() === 0;

/** mkdtemp makes the directory mode 700: what a clone in /root looks like to the postgres OS user. */
function privateDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lw-private-'));
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  return dir;
}

describe.skipIf(!asRoot)('the embedded PostgreSQL as root in a directory only root can enter', () => {
  const cleanups: Array<() => void> = [];
  afterAll(() => {
    for (const cleanup of cleanups.reverse()) cleanup();
  });

  it('runs from a copy of the binaries and keeps its data in a postgres-owned directory outside', async () => {
    const dir = privateDirectory();
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const installDir = join(dir, 'postgresql');
    cpSync(await shippedInstallDir(), installDir, { recursive: true, verbatimSymlinks: true });
    const dataDir = join(dir, 'data');

    const handle = await startEmbeddedPostgres({ dataDir, installDir, database: 'postgres' });
    cleanups.push(() => removeDataDirectory(dataDir));
    cleanups.push(() => rmSync(handle.installDir, { recursive: true, force: true }));
    try {
      expect(handle.dataDir).toBe(sharedPostgresDataDir(dataDir));
      expect(handle.dataDir.startsWith('/var/tmp/')).toBe(true);
      const data = statSync(handle.dataDir);
      expect(data.mode & 0o777).toBe(0o700);
      expect(data.uid).not.toBe(0);
      expect(handle.installDir.startsWith('/var/tmp/')).toBe(true);
      expect(statSync(handle.installDir).uid).toBe(0);

      const client = new pg.Client({ connectionString: handle.url });
      await client.connect();
      const { rows } = await client.query<{ answer: number }>('SELECT 41 + 1 AS answer');
      await client.end();
      expect(rows[0]?.answer).toBe(42);
    } finally {
      await handle.stop();
    }
  });

  it('serves npm start from a clone in such a directory and says where the data lives', async () => {
    const dir = privateDirectory();
    const clone = join(dir, 'lw');
    copyProject(clone);
    const projectData = join(clone, '.loadwatch');
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => removeDataDirectory(projectData));
    const port = await freePort();
    const stack: CliRun = startCli(
      ['start'],
      { PORT: String(port) },
      join(clone, 'lib', 'cli', 'loadwatch.js'),
    );
    try {
      const banner = await stack.waitFor(/Ctrl-C stops everything/, 60_000);
      expect(banner).toContain(
        `data         ${sharedPostgresDataDir(projectData)}   (outside the project: the OS user postgres cannot enter ${projectData})`,
      );
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    } finally {
      stack.child.kill('SIGTERM');
      expect(await stack.exited).toBe(0);
    }
  });
});

describe('loadwatch start on a data directory whose PostgreSQL another process runs', () => {
  it('is refused with exit 2, naming the process', async () => {
    const dataDir = scratchDataDir('in-use');
    const handle = await startEmbeddedPostgres({ dataDir: dataDir.path });
    try {
      const refused = await runCli(['start'], {
        LOADWATCH_DATA_DIR: dataDir.path,
        PORT: String(await freePort()),
      });
      expect(refused.output).toContain(
        `is in use by PostgreSQL pid ${handle.pid}, started by the running process ${process.pid}; stop that first`,
      );
      expect(refused.code).toBe(2);
    } finally {
      await handle.stop();
      dataDir.remove();
    }
  });
});
