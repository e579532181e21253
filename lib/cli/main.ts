// The loadwatch command line: a registry of commands, each with its own help. Exit 0 ok, 1 failed, 2 usage or config.

import { SERVICE_VERSION } from '../api/create-api.ts';
import { type Config, ConfigError, loadConfig } from '../config/config.ts';
import { parseMigrateRequest, runMigrateRequest } from '../db/migrate-command.ts';
import { EXIT, LoadwatchError } from '../errors.ts';
import { stopAllEmbedded } from '../local/embedded-postgres.ts';
import { acquireLocalDatabase, describeDataLocation, startLocalStack } from '../local/stack.ts';
import { createStackLog } from '../local/stack-log.ts';
import { terminalSafe } from '../terminal-text.ts';
import { closestName, parseFlags } from './flags.ts';
import { type CliIo, processIo } from './io.ts';
import { loadTestCommand, loadTestHelp } from './loadtest-command.ts';
import { monitorCommand, monitorHelp } from './monitor-command.ts';
import { PRODTEST_HELP, prodtestCommand } from './prodtest-command.ts';
import { UsageError } from './usage-error.ts';

const localApi = (config: Config) => `http://localhost:${config.port}`;

const overviewHelp = (
  config: Config,
) => `loadwatch ${SERVICE_VERSION}: production operations for APIs on AWS Lambda

Usage:
  loadwatch start                      PostgreSQL, migrations and the API on ${localApi(config)}
  loadwatch migrate up|down|status     apply, revert or list migrations (loadwatch migrate --help)
  loadwatch loadtest [options]         a load test through the local state machine (loadwatch loadtest --help)
  loadwatch monitor [options]          probe the checks, alert once per incident (loadwatch monitor --help)
  loadwatch prodtest --base-url URL    verify a deployed or local stack (loadwatch prodtest --help)
  loadwatch help [COMMAND]             this text, or a command's own

Options:
  -h, --help                           help (after a command: that command's)
  -v, --version                        the version

The database is DATABASE_URL when set; otherwise the local stack's embedded PostgreSQL
(the running one, or one started for the length of the command). Configuration: README.md.
`;

const startHelp = (config: Config) => `Usage: loadwatch start

  Starts PostgreSQL (DATABASE_URL, or the embedded one in ${config.dataDir}), applies pending migrations,
  then serves the API on ${localApi(config)} (PORT) with the monitor running every ${config.monitor.intervalSeconds}s.
  -h, --help    this text
Exit: 0 after Ctrl-C or SIGTERM, 1 when the stack cannot start, 2 for bad usage or configuration.
`;

const migrateHelp = () => `Usage: loadwatch migrate up|down|status [N] [options]

  loadwatch migrate up           apply every pending migration
  loadwatch migrate up N         apply the next N
  loadwatch migrate down         revert the last applied migration
  loadwatch migrate down N       revert the last N (refused when fewer than N are applied)
  loadwatch migrate down --all   revert every applied migration: this deletes all data
  loadwatch migrate status       applied and pending migrations

  --all         every pending (up) or every applied (down) migration
  --json        print the result as JSON alone on stdout
  -h, --help    this text
Exit: 0 done, 1 a migration failed (it is rolled back), 2 bad usage or configuration.
`;

interface Command {
  help(config: Config): string;
  run(args: string[], config: Config, io: CliIo): Promise<number>;
}

async function migrate(args: string[], config: Config, io: CliIo): Promise<number> {
  // A bare "migrate" used to mean "up"; it now names the choices instead of guessing which one was meant.
  if (args.length === 0) {
    io.out(migrateHelp());
    return EXIT.usage;
  }
  const { values, positionals, problems } = parseFlags(
    args,
    { json: { type: 'boolean' }, all: { type: 'boolean' } },
    { maxPositionals: 2 },
  );
  const [action, count] = positionals;
  if (action === undefined) problems.unshift('migrate: name an action: up, down or status');
  if (count !== undefined && !/^\d+$/.test(count)) problems.push(`count: "${count}" is not a whole number`);
  if (problems.length > 0) throw new UsageError(problems);
  const request = parseMigrateRequest({
    action,
    ...(count === undefined ? {} : { count: Number(count) }),
    ...(values.all ? { all: true } : {}),
  });
  const json = values.json === true;
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

const COMMANDS: Record<string, Command> = {
  start: {
    help: startHelp,
    run: (args, config, io) => {
      const { problems } = parseFlags(args, {});
      if (problems.length > 0) throw new UsageError(problems);
      return start(config, io);
    },
  },
  migrate: { help: migrateHelp, run: migrate },
  loadtest: { help: loadTestHelp, run: loadTestCommand },
  monitor: { help: monitorHelp, run: monitorCommand },
  prodtest: { help: () => PRODTEST_HELP, run: prodtestCommand },
};

const asksForHelp = (args: string[]) => {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
};

/** Help shows what the command would really use (PORT, the data directory), so it needs the configuration. */
function printHelp(text: (config: Config) => string, io: CliIo): number {
  try {
    io.out(text(loadConfig(io.env)));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.out(text(loadConfig({})));
    io.err(`(the configuration is invalid, so the defaults above are shown: ${error.problems.join('; ')})\n`);
  }
  return EXIT.ok;
}

/** Codes of a command line that cannot be carried out as written: their message ends by pointing to help. */
const POINTS_TO_HELP: ReadonlySet<string> = new Set(['USAGE', 'MIGRATE_USAGE', 'MIGRATE_BEYOND_APPLIED']);

/** What the command line says of an error, read off its fields: a summary over its problems, or them counted. */
export function explainFailure(error: unknown): { text: string; exitCode: number; pointsToHelp: boolean } {
  if (!(error instanceof LoadwatchError)) {
    return {
      text: `loadwatch: ${(error as Error)?.message ?? String(error)}\n`,
      exitCode: EXIT.failed,
      pointsToHelp: false,
    };
  }
  const problems = error.problems ?? [];
  const listed = problems.map((problem) => `  ${problem}\n`).join('');
  const text =
    problems.length === 0
      ? `loadwatch: ${error.message}\n`
      : error.summary !== undefined
        ? `loadwatch: ${error.summary}\n${listed}`
        : problems.length === 1
          ? `loadwatch: ${problems[0]}\n`
          : `loadwatch: ${problems.length} problems\n${listed}`;
  return { text, exitCode: error.exitCode, pointsToHelp: POINTS_TO_HELP.has(error.code) };
}

export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    io.out(`${SERVICE_VERSION}\n`);
    return EXIT.ok;
  }
  if (name === 'help' && rest[0] !== undefined && COMMANDS[rest[0]]) {
    return printHelp((COMMANDS[rest[0]] as Command).help, io);
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    printHelp(overviewHelp, io);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (command === undefined) {
      const known = Object.keys(COMMANDS);
      const suggestion = closestName(name, known);
      throw new UsageError(
        `unknown command "${name}"${suggestion ? `; did you mean ${suggestion}?` : ''} (commands: ${known.join(', ')})`,
      );
    }
    if (asksForHelp(rest)) return printHelp(command.help, io);
    return await command.run(rest, loadConfig(io.env), io);
  } catch (error) {
    const failure = explainFailure(error);
    // These lines echo what was given (flags, variables, files): shown escaped, never obeyed by the terminal.
    io.err(terminalSafe(failure.text, { keepLines: true }));
    if (failure.pointsToHelp)
      io.err(`Run "${command ? `loadwatch ${name} --help` : 'loadwatch help'}" for usage.\n`);
    return failure.exitCode;
  } finally {
    await stopAllEmbedded();
  }
}

/** The process entry: runs the CLI, and stops PostgreSQL on crashes too (an orphan would block the next start). */
export function main(argv = process.argv.slice(2)): void {
  const bail = (error: unknown) => {
    process.stderr.write(
      terminalSafe(`loadwatch: ${(error as Error)?.stack ?? String(error)}\n`, { keepLines: true }),
    );
    stopAllEmbedded().finally(() => process.exit(EXIT.failed));
  };
  process.on('uncaughtException', bail);
  process.on('unhandledRejection', bail);
  runCli(argv).then((code) => process.exit(code));
}
