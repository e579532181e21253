// The loadwatch command line: start the local stack, run migrations. Exit 0 ok, 1 failed, 2 usage or config.

import { parseArgs } from 'node:util';
import { SERVICE_VERSION } from '../api/create-api.ts';
import { type Config, ConfigError, loadConfig } from '../config/config.ts';
import { MigrateUsageError, parseMigrateRequest, runMigrateRequest } from '../db/migrate-command.ts';
import { LoadTestInputError } from '../loadtest/options.ts';
import { EmbeddedPostgresError, stopAllEmbedded } from '../local/embedded-postgres.ts';
import {
  acquireLocalDatabase,
  describeDataLocation,
  LocalStackError,
  startLocalStack,
} from '../local/stack.ts';
import { createStackLog } from '../local/stack-log.ts';
import { CheckConfigError } from '../monitor/checks.ts';
import { LOADTEST_HELP, loadTestCommand } from './loadtest-command.ts';
import { MONITOR_HELP, monitorCommand } from './monitor-command.ts';
import { PRODTEST_HELP, prodtestCommand } from './prodtest-command.ts';
import { UsageError } from './usage-error.ts';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
const COMMANDS = ['start', 'migrate', 'loadtest', 'monitor', 'prodtest'];
const COMMAND_HELP: Record<string, string> = {
  loadtest: LOADTEST_HELP,
  monitor: MONITOR_HELP,
  prodtest: PRODTEST_HELP,
};

const HELP = `loadwatch ${SERVICE_VERSION}: production operations for APIs on AWS Lambda

Usage:
  loadwatch start                      PostgreSQL, migrations and the API on http://localhost:3000
  loadwatch migrate up [N]             apply all pending migrations, or the next N
  loadwatch migrate down [N]           revert the last migration, or the last N
  loadwatch migrate status             applied and pending migrations
  loadwatch loadtest [options]         a load test through the local state machine (loadwatch loadtest --help)
  loadwatch monitor [options]          probe the checks, alert once per incident (loadwatch monitor --help)
  loadwatch prodtest --base-url URL    verify a deployed or local stack (loadwatch prodtest --help)
  loadwatch help                       this text

Options:
  --json                               machine-readable output (migrate, loadtest)
  -h, --help                           this text
  -v, --version                        the version

The database is DATABASE_URL when set; otherwise the local stack's embedded PostgreSQL
(the running one, or one started for the length of the command). Configuration: README.md.
`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  /** stderr is a terminal: live displays may redraw in place. */
  errIsTerminal?: boolean;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  errIsTerminal: process.stderr.isTTY === true,
  env: process.env,
};

async function migrate(args: string[], config: Config, io: CliIo, json: boolean): Promise<number> {
  const [action, count, ...rest] = args;
  if (rest.length > 0) throw new UsageError(`migrate: unexpected argument "${rest[0]}"`);
  if (count !== undefined && !/^\d+$/.test(count)) {
    throw new UsageError(`migrate: count "${count}" is not a whole number`);
  }
  const request = parseMigrateRequest({ action, ...(count === undefined ? {} : { count: Number(count) }) });
  const database = await acquireLocalDatabase(config, `migrate ${action}`);
  try {
    const result = await runMigrateRequest(database.target, request, (line) => {
      if (!json) io.err(`${line}\n`);
    });
    if (json) {
      io.out(`${JSON.stringify(result, null, 2)}\n`);
      return EXIT.ok;
    }
    const verb = request.action === 'up' ? 'applied' : 'reverted';
    if (request.action !== 'status') {
      io.out(
        result.ran.length
          ? `${verb}: ${result.ran.join(', ')}\n`
          : `nothing to ${request.action === 'up' ? 'apply' : 'revert'}\n`,
      );
    }
    io.out(`database: ${database.target.label} (${database.source})\n`);
    io.out(`current:  ${result.status.current ?? '(none)'}\nlatest:   ${result.status.latest ?? '(none)'}\n`);
    io.out(`pending:  ${result.status.pending.length ? result.status.pending.join(', ') : '(none)'}\n`);
    return EXIT.ok;
  } finally {
    await database.release();
  }
}

async function start(config: Config, io: CliIo): Promise<number> {
  const log = createStackLog(config, { stdoutIsTerminal: process.stdout.isTTY === true });
  const stack = await startLocalStack(config, log.logger).catch(async (error: unknown) => {
    await log.close();
    throw error;
  });
  const dataLocation = describeDataLocation(config, stack.database);
  const corsLine = config.cors.origins.length ? config.cors.origins.join(', ') : '(none: same-origin only)';
  io.err(
    [
      '',
      `loadwatch ${SERVICE_VERSION} is running (stage ${config.stage})`,
      `  API          ${stack.apiUrl}   (try ${stack.apiUrl}/health/ready)`,
      `  PostgreSQL   ${stack.database.target.label}   ${stack.database.source}`,
      ...(dataLocation ? [`  data         ${dataLocation}`] : []),
      `  migrations   ${stack.appliedMigrations.length ? `applied ${stack.appliedMigrations.join(', ')}` : 'up to date'}`,
      ...(log.file
        ? [`  log          ${log.file}   (the full JSON log; here, short lines and one summary a second)`]
        : []),
      `  CORS         ${corsLine}`,
      `  API token    ${stack.token}   (Authorization: Bearer …, for POST /v1/loadtests)`,
      `  monitor      every ${config.monitor.intervalSeconds}s, status page ${stack.apiUrl}/status; metrics in PostgreSQL only (no CloudWatch locally)`,
      `  pool         ${config.pool.size} + ${config.pool.maxOverflow} overflow, timeout ${config.pool.timeoutSeconds}s`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolveStop) => {
    const shutdown = (signal: string) => {
      io.err(`\n${signal}: stopping the API and PostgreSQL…\n`);
      stack.stop().then(resolveStop, resolveStop);
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGHUP', () => shutdown('SIGHUP'));
  });
  await log.close();
  io.err('stopped\n');
  return EXIT.ok;
}

function help(io: CliIo): number {
  io.out(HELP);
  return EXIT.ok;
}

function parseFlags(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-v') {
    io.out(`${SERVICE_VERSION}\n`);
    return EXIT.ok;
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.out(HELP);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  try {
    if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${command}"`);
    const commandHelp = COMMAND_HELP[command];
    if (commandHelp && (rest.includes('--help') || rest.includes('-h'))) {
      io.out(commandHelp);
      return EXIT.ok;
    }
    const config = loadConfig(io.env);
    switch (command) {
      case 'start': {
        const { positionals, values } = parseFlags(rest);
        if (values.help) return help(io);
        if (positionals.length) throw new UsageError(`start: unexpected argument "${positionals[0]}"`);
        return await start(config, io);
      }
      case 'migrate': {
        const { positionals, values } = parseFlags(rest);
        if (values.help) return help(io);
        return await migrate(positionals, config, io, values.json === true);
      }
      case 'monitor':
        return await monitorCommand(rest, config, io);
      case 'prodtest':
        return await prodtestCommand(rest, config, io);
      default:
        return await loadTestCommand(rest, config, io);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(
        `loadwatch: invalid configuration\n${error.problems.map((problem) => `  ${problem}`).join('\n')}\n`,
      );
      return EXIT.usage;
    }
    if (error instanceof CheckConfigError) {
      io.err(`loadwatch: invalid checks in ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof LoadTestInputError) {
      io.err(`loadwatch: invalid load test\n${error.problems.map((problem) => `  ${problem}`).join('\n')}\n`);
      return EXIT.usage;
    }
    const isParseError = (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (error instanceof UsageError || error instanceof MigrateUsageError || isParseError) {
      io.err(`loadwatch: ${(error as Error).message}\nRun "loadwatch help" for usage.\n`);
      return EXIT.usage;
    }
    if (error instanceof LocalStackError || error instanceof EmbeddedPostgresError) {
      io.err(`loadwatch: ${error.message}\n`);
      return error.exitCode;
    }
    io.err(`loadwatch: ${(error as Error)?.message ?? String(error)}\n`);
    return EXIT.failed;
  } finally {
    await stopAllEmbedded();
  }
}

/** The process entry: runs the CLI, and stops PostgreSQL on crashes too (an orphan would block the next start). */
export function main(argv = process.argv.slice(2)): void {
  const bail = (error: unknown) => {
    process.stderr.write(`loadwatch: ${(error as Error)?.stack ?? String(error)}\n`);
    stopAllEmbedded().finally(() => process.exit(EXIT.failed));
  };
  process.on('uncaughtException', bail);
  process.on('unhandledRejection', bail);
  runCli(argv).then((code) => process.exit(code));
}
