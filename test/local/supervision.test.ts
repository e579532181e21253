import { createServer, type Server } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  freePort,
  postgresDataDir,
  postmasterPid,
  type SupervisionEvent,
  startEmbeddedPostgres,
} from '../../lib/local/embedded-postgres.ts';
import { startCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';

async function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function answer(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ answer: number }>('SELECT 42 AS answer')).rows[0]?.answer ?? 0;
  } finally {
    await client.end();
  }
}

describe('the embedded PostgreSQL under supervision', () => {
  it('restarts a postmaster that was killed, on the same port, and reports it back', async () => {
    const dataDir = scratchDataDir('supervised');
    const events: SupervisionEvent[] = [];
    const handle = await startEmbeddedPostgres({
      dataDir: dataDir.path,
      database: 'postgres',
      onSupervision: (event) => events.push(event),
      restartDelaysMs: [100, 200, 400, 800, 1600, 3200],
    });
    try {
      const killed = handle.pid;
      process.kill(killed, 'SIGKILL');
      await waitUntil(() => events.some((event) => event.kind === 'back'));
      expect(events[0]).toEqual({ kind: 'down', pid: killed, reason: 'SIGKILL' });
      expect(events.at(-1)).toMatchObject({ kind: 'back', pid: handle.pid });
      expect(handle.pid).not.toBe(killed);
      expect(await answer(handle.url)).toBe(42);
    } finally {
      await handle.stop();
      dataDir.remove();
    }
  });

  it('gives up after its bounded attempts and says so', async () => {
    const dataDir = scratchDataDir('supervised');
    const events: SupervisionEvent[] = [];
    let squatter: Server | undefined;
    const handle = await startEmbeddedPostgres({
      dataDir: dataDir.path,
      database: 'postgres',
      restartDelaysMs: [50, 50],
      onSupervision: (event) => {
        events.push(event);
        // Someone else takes the port the moment the server is gone: no restart can succeed.
        if (event.kind === 'down') {
          squatter = createServer().listen(handle.port, '127.0.0.1');
        }
      },
    });
    try {
      process.kill(handle.pid, 'SIGKILL');
      await waitUntil(() => events.some((event) => event.kind === 'gave-up'));
      expect(events.map((event) => event.kind)).toEqual(['down', 'restarting', 'restarting', 'gave-up']);
      expect(events.at(-1)).toMatchObject({ kind: 'gave-up', attempts: 2 });
    } finally {
      squatter?.close();
      await handle.stop();
      dataDir.remove();
    }
  });
});

describe('loadwatch start when its PostgreSQL dies', () => {
  it('says so on the console, restarts it, says when it is back, and the API answers again', async () => {
    const dataDir = scratchDataDir('supervised-stack');
    const port = await freePort();
    const stack = startCli(['start'], { LOADWATCH_DATA_DIR: dataDir.path, PORT: String(port) });
    try {
      await stack.waitFor(/Ctrl-C stops everything/);
      expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
      const pid = postmasterPid(postgresDataDir(dataDir.path)) as number;
      process.kill(pid, 'SIGKILL');
      await stack.waitFor(
        new RegExp(
          `PostgreSQL \\(pid ${pid}\\) stopped unexpectedly \\(SIGKILL\\); the API answers 503 until it is back`,
        ),
      );
      await stack.waitFor(/PostgreSQL is back \(pid \d+\) after \d+\.\ds/);
      let status = 0;
      for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
        status = (await fetch(`http://127.0.0.1:${port}/health/ready`)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(status).toBe(200);
    } finally {
      stack.child.kill('SIGTERM');
      expect(await stack.exited).toBe(0);
      dataDir.remove();
    }
  });
});
