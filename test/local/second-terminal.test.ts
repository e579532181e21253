import { describe, expect, it } from 'vitest';
import { freePort } from '../../lib/local/embedded-postgres.ts';
import { runCli, startCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';

const NOTICE = 'but not from this data directory';

describe('a command in a second terminal while a stack runs', () => {
  it('says in one line that a stack on its port runs from another data directory, and only then', async () => {
    const stackDir = scratchDataDir('first-terminal');
    const otherDir = scratchDataDir('second-terminal');
    const port = String(await freePort());
    const stack = startCli(['start'], { LOADWATCH_DATA_DIR: stackDir.path, PORT: port });
    try {
      await stack.waitFor(/Ctrl-C stops everything/);

      const elsewhere = await runCli(['migrate', 'status'], {
        LOADWATCH_DATA_DIR: otherDir.path,
        PORT: port,
      });
      expect(elsewhere.code).toBe(0);
      const lines = elsewhere.output.split('\n').filter((line) => line.includes(NOTICE));
      expect(lines).toEqual([
        `loadwatch: a loadwatch stack answers on http://localhost:${port}, but not from this data directory (${otherDir.path}): this command uses a PostgreSQL of its own, and what it records will not show up in that stack (/v1/loadtests); run it from that stack's project or set LOADWATCH_DATA_DIR to its data directory`,
      ]);
      expect(elsewhere.output).toContain('(embedded (started))');

      const same = await runCli(['migrate', 'status'], { LOADWATCH_DATA_DIR: stackDir.path, PORT: port });
      expect(same.output).toContain('(embedded (running stack))');
      expect(same.output).not.toContain(NOTICE);

      const otherPort = String(await freePort());
      const alone = await runCli(['migrate', 'status'], {
        LOADWATCH_DATA_DIR: otherDir.path,
        PORT: otherPort,
      });
      expect(alone.code).toBe(0);
      expect(alone.output).not.toContain(NOTICE);
    } finally {
      stack.child.kill('SIGTERM');
      await stack.exited;
      stackDir.remove();
      otherDir.remove();
    }
  });
});
