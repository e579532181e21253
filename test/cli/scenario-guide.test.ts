// The scenario guide's commands, read from docs/production/LOAD_TESTING.md and run as a user would: the local stack
// with its demo shop in one process, then each `npx loadwatch loadtest …` line through the real CLI.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_SHOP_PORT } from '../../lib/local/demo-shop.ts';
import { freePort } from '../../lib/local/embedded-postgres.ts';
import { projectRoot } from '../../lib/local/stack.ts';
import { runCli, startCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';

const guide = readFileSync(join(projectRoot(), 'docs', 'production', 'LOAD_TESTING.md'), 'utf8');

/** The shell block under the examples' heading, one command a line, comments dropped. */
function guideCommands(): string[] {
  const section = guide.slice(guide.indexOf('### Three examples against the demo shop'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

describe('the scenario guide, as its commands are written', () => {
  it('starts the stack with the demo shop, and every example run passes and is listed by the stack', async () => {
    const commands = guideCommands();
    expect(commands[0]).toBe('npm start -- --demo-shop');
    const runs = commands.slice(1);
    expect(runs).toHaveLength(3);
    expect(runs.every((command) => command.startsWith('npx loadwatch loadtest '))).toBe(true);

    const dataDir = scratchDataDir('scenario-guide');
    const port = String(await freePort());
    // The shop's own port may be taken on this machine: the same flag moves it, and the commands follow.
    const shopPort = String(await freePort());
    const env = { LOADWATCH_DATA_DIR: dataDir.path, PORT: port };
    const stack = startCli(['start', '--demo-shop-port', shopPort], env);
    try {
      const banner = await stack.waitFor(/Ctrl-C stops everything/, 60_000);
      expect(banner).toContain(`demo shop    http://127.0.0.1:${shopPort}`);
      for (const command of runs) {
        const args = command
          .replace(`http://127.0.0.1:${DEMO_SHOP_PORT}`, `http://127.0.0.1:${shopPort}`)
          .split(/\s+/)
          .slice(2);
        const { code, output } = await runCli(args, env, 90_000);
        expect({ command, code, output }).toMatchObject({ command, code: 0 });
        expect(output).toMatch(/PASSED/);
      }
      const listed = (await (await fetch(`http://127.0.0.1:${port}/v1/loadtests?limit=10`)).json()) as {
        runs: Array<{ status: string; target: string }>;
      };
      expect(listed.runs.map((run) => [run.status, run.target])).toEqual(
        runs.map(() => ['passed', `http://127.0.0.1:${shopPort}`]),
      );
    } finally {
      stack.child.kill('SIGTERM');
      await stack.exited;
      dataDir.remove();
    }
  }, 240_000);
});
