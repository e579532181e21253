// A command whose reader goes away (`loadwatch start | head`, a parent that was killed) stops and takes its
// PostgreSQL with it, instead of reporting each failed write on the same closed stream without end.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../lib/local/embedded-postgres.ts';
import { startCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('loadwatch start when its output is closed', () => {
  it('stops the stack and its PostgreSQL once a write finds no reader', async () => {
    const dataDir = scratchDataDir('closed-output');
    const port = await freePort();
    const stack = startCli(['start'], {
      LOADWATCH_DATA_DIR: dataDir.path,
      PORT: String(port),
      LOG_LEVEL: 'info',
    });
    try {
      await stack.waitFor(/Ctrl-C stops everything/, 60_000);
      const postgres = childrenOf(stack.child.pid as number);
      expect(postgres.length).toBeGreaterThan(0);

      stack.child.stdout?.destroy();
      stack.child.stderr?.destroy();
      // A request the stack logs, so that it writes to the closed pipe.
      await fetch(`http://127.0.0.1:${port}/v1/nowhere`).catch(() => undefined);
      const timeout = new Promise<'still running'>((resolve) =>
        setTimeout(() => resolve('still running'), 20_000),
      );
      expect(await Promise.race([stack.exited, timeout])).toBe(1);
      expect(postgres.filter(alive)).toEqual([]);
    } finally {
      stack.child.kill('SIGKILL');
      await stack.exited;
      dataDir.remove();
    }
  }, 90_000);
});
