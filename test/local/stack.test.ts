import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listMigrations } from '../../lib/db/migrations.ts';
import {
  freePort,
  postgresDataDir,
  processAlive,
  postmasterPid as recordedPid,
} from '../../lib/local/embedded-postgres.ts';
import { projectRoot } from '../../lib/local/stack.ts';
import { type CliRun, runCli, startCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { createTestDatabase } from '../support/database.ts';

const postmasterPid = (dataDir: string) => recordedPid(postgresDataDir(dataDir));

describe('loadwatch start', () => {
  const dataDir = scratchDataDir('stack');
  const running: CliRun[] = [];
  afterAll(async () => {
    for (const run of running) run.child.kill('SIGTERM');
    await Promise.all(running.map((run) => run.exited));
    const pid = postmasterPid(dataDir.path);
    if (pid && processAlive(pid)) process.kill(pid, 'SIGINT');
    dataDir.remove();
  });

  it('serves the API on an embedded PostgreSQL and stops everything on SIGTERM', async () => {
    const port = await freePort();
    const env = { LOADWATCH_DATA_DIR: dataDir.path, PORT: String(port) };
    const stack = startCli(['start'], env);
    running.push(stack);
    const banner = await stack.waitFor(/Ctrl-C stops everything/);
    expect(banner).toContain(`API          http://localhost:${port}`);
    expect(banner).toMatch(/PostgreSQL {3}127\.0\.0\.1:\d+\/loadwatch {3}embedded \(started\)/);
    expect(banner).toContain(`migrations   applied ${listMigrations().join(', ')}`);

    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(200);
    const pid = postmasterPid(dataDir.path);
    expect(pid && processAlive(pid)).toBe(true);

    // The same data directory, another port: refused with the reason.
    const second = await runCli(['start'], { ...env, PORT: String(await freePort()) });
    expect(second.code).toBe(2);
    expect(second.output).toContain(
      `the local stack (http://localhost:${port}) is already running on ${dataDir.path}`,
    );

    // Another data directory, the same port: refused with the reason, and its own database stopped again.
    const otherDir = scratchDataDir('stack-port');
    const third = await runCli(['start'], { LOADWATCH_DATA_DIR: otherDir.path, PORT: String(port) });
    expect(third.code).toBe(2);
    expect(third.output).toContain(`port ${port} is already in use; stop what uses it or set PORT`);
    const otherPid = postmasterPid(otherDir.path);
    expect(otherPid === null || !processAlive(otherPid)).toBe(true);
    otherDir.remove();

    // While the stack runs, migrate uses its database rather than starting another.
    const status = await runCli(['migrate', 'status'], env);
    expect(status.code).toBe(0);
    expect(status.output).toContain('(embedded (running stack))');
    expect(status.output).toContain('pending:  (none)');

    stack.child.kill('SIGTERM');
    expect(await stack.exited).toBe(0);
    expect(processAlive(pid as number)).toBe(false);
    expect(existsSync(join(dataDir.path, 'stack.json'))).toBe(false);
  });

  it('starts its own database for a command when no stack runs, and keeps data across restarts', async () => {
    const env = { LOADWATCH_DATA_DIR: dataDir.path };
    const latest = listMigrations().at(-1);
    const down = await runCli(['migrate', 'down'], env);
    expect(down.code).toBe(0);
    expect(down.output).toContain(`reverted: ${latest}`);
    expect(down.output).toContain('(embedded (started))');
    const status = await runCli(['migrate', 'status', '--json'], env);
    expect(JSON.parse(status.output)).toMatchObject({
      action: 'status',
      status: { pending: [latest] },
    });
    const up = await runCli(['migrate', 'up'], env);
    expect(up.output).toContain(`applied: ${latest}`);
    const pid = postmasterPid(dataDir.path);
    expect(pid === null || !processAlive(pid)).toBe(true);
  });

  it('cleans up a PostgreSQL orphaned by a SIGKILLed stack on the next start', async () => {
    const port = await freePort();
    const env = { LOADWATCH_DATA_DIR: dataDir.path, PORT: String(port) };
    const first = startCli(['start'], env);
    running.push(first);
    await first.waitFor(/Ctrl-C stops everything/);
    const orphan = postmasterPid(dataDir.path) as number;
    first.child.kill('SIGKILL');
    await first.exited;
    expect(processAlive(orphan)).toBe(true);

    const second = startCli(['start'], env);
    running.push(second);
    const banner = await second.waitFor(/Ctrl-C stops everything/);
    expect(banner).toContain('embedded (started)');
    expect(processAlive(orphan)).toBe(false);
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });
});

describe('embedded PostgreSQL module', () => {
  it('leaves the process its own exit code', async () => {
    const { spawnSync } = await import('node:child_process');
    const module = join(projectRoot(), 'lib', 'local', 'embedded-postgres.ts');
    const result = spawnSync(process.execPath, [
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(module)}); process.exitCode = 3;`,
    ]);
    expect(result.status).toBe(3);
    expect(result.stderr.toString()).toBe('');
  });
});

describe('loadwatch configuration errors', () => {
  it('exits 2 naming every bad variable', async () => {
    const result = await runCli(['start'], {
      CORS_ORIGINS: 'htp:/x',
      DB_POOL_TIMEOUT: 'soon',
      DATABASE_URL: 'mysql://db/app',
    });
    expect(result.code).toBe(2);
    expect(result.output).toContain('CORS_ORIGINS: "htp:/x" is not an origin (scheme://host[:port])');
    expect(result.output).toContain('DB_POOL_TIMEOUT: "soon" is not a whole number of seconds');
    expect(result.output).toContain('DATABASE_URL: scheme "mysql" is not postgres or postgresql');
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await runCli(['launch'], {})).code).toBe(2);
    expect((await runCli(['start', '--bogus'], {})).code).toBe(2);
    expect((await runCli(['migrate', 'sideways'], {})).output).toContain(
      'action: "sideways" is not one of up, down, status',
    );
  });
});

describe('loadwatch migrate usage', () => {
  it('refuses down N beyond the applied migrations with exit 2, and reverts all only with --all', async () => {
    const database = await createTestDatabase('lw_cli_migrate');
    try {
      const env = { DATABASE_URL: database.url };
      const all = listMigrations();
      expect((await runCli(['migrate', 'up'], env)).code).toBe(0);

      const refused = await runCli(['migrate', 'down', String(all.length + 6)], env);
      expect(refused.code).toBe(2);
      expect(refused.output).toContain(
        `cannot revert ${all.length + 6} migrations, only ${all.length} are applied; to revert every one, use --all`,
      );
      const status = await runCli(['migrate', 'status'], env);
      expect(status.output).toContain(`current:  ${all.at(-1)}`);

      const everything = await runCli(['migrate', 'down', '--all'], env);
      expect(everything.code).toBe(0);
      expect(everything.output).toContain(`reverted: ${[...all].reverse().join(', ')}`);
    } finally {
      await database.drop();
    }
  });

  it('prints its usage with exit 2 when no action is given', async () => {
    const bare = await runCli(['migrate'], {});
    expect(bare.code).toBe(2);
    expect(bare.output).toContain('Usage: loadwatch migrate up|down|status');
    expect(bare.output).toContain('loadwatch migrate down --all');
  });
});

describe('loadwatch help and flags', () => {
  it('prints each command its own help, with the PORT it would use', async () => {
    const env = { PORT: '4567' };
    const start = await runCli(['start', '--help'], env);
    expect(start.code).toBe(0);
    expect(start.output).toContain('Usage: loadwatch start');
    expect(start.output).toContain('http://localhost:4567 (PORT)');
    const migrate = await runCli(['migrate', '--help'], env);
    expect(migrate.code).toBe(0);
    expect(migrate.output).toContain('Usage: loadwatch migrate');
    for (const command of ['loadtest', 'monitor']) {
      const help = await runCli([command, '-h'], env);
      expect(help.code).toBe(0);
      expect(help.output).toContain(`Usage: loadwatch ${command}`);
      expect(help.output).toContain('(default: http://localhost:4567)');
    }
    expect((await runCli(['help', 'prodtest'], env)).output).toContain('Usage: loadwatch prodtest');
    expect((await runCli(['help'], env)).output).toContain('the API on http://localhost:4567');
  });

  it('answers "help NAME" for a name that is no command with the overview, a name every object has included', async () => {
    for (const name of ['nosuch', 'constructor', 'toString']) {
      const help = await runCli(['help', name], {});
      expect(help.code).toBe(0);
      expect(help.output).toContain('loadwatch help [COMMAND]');
      expect(help.output).not.toContain('TypeError');
    }
  });

  it('names every bad flag and value at once, suggesting the flag that was meant', async () => {
    const result = await runCli(['loadtest', '--users', 'five', '--duraton', '5s', '--jsn'], {});
    expect(result.code).toBe(2);
    expect(result.output).toContain('--duraton: unknown option; did you mean --duration?');
    expect(result.output).toContain('--jsn: unknown option; did you mean --json?');
    expect(result.output).toContain('users: "five" is not a whole number');
    expect(result.output).toContain('Run "loadwatch loadtest --help" for usage.');
    const monitor = await runCli(['monitor', '--onse', '--interval'], {});
    expect(monitor.code).toBe(2);
    expect(monitor.output).toContain('--onse: unknown option; did you mean --once?');
    expect(monitor.output).toContain('--interval: needs a value');
    const command = await runCli(['lodtest'], {});
    expect(command.code).toBe(2);
    expect(command.output).toContain('unknown command "lodtest"; did you mean loadtest?');
  });
});
