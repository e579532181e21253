// The loadwatch command line: a registry of commands, each with its own help. Exit 0 ok, 1 failed, 2 usage or config.

import { SERVICE_VERSION } from '../api/create-api.ts';
import { type Config, ConfigError, loadConfig } from '../config/config.ts';
import { EXIT, LoadwatchError } from '../errors.ts';
import { stopAllEmbedded } from '../local/embedded-postgres.ts';
import { localApiUrl } from '../local/stack.ts';
import { terminalSafe } from '../terminal-text.ts';
import { compareCommand, compareHelp } from './compare-command.ts';
import { closestName } from './flags.ts';
import { type CliIo, type Command, processIo } from './io.ts';
import { loadTestCommand, loadTestHelp } from './loadtest-command.ts';
import { migrateCommand, migrateHelp } from './migrate-command.ts';
import { monitorCommand, monitorHelp } from './monitor-command.ts';
import { PRODTEST_HELP, prodtestCommand } from './prodtest-command.ts';
import { startCommand, startHelp } from './start-command.ts';
import { UsageError } from './usage-error.ts';

const overviewHelp = (
  config: Config,
) => `loadwatch ${SERVICE_VERSION}: production operations for APIs on AWS Lambda

Usage:
  loadwatch start                      PostgreSQL, migrations and the API on ${localApiUrl(config)}
  loadwatch migrate up|down|status     apply, revert or list migrations (loadwatch migrate --help)
  loadwatch loadtest [options]         a load test through the local state machine (loadwatch loadtest --help)
  loadwatch compare BASELINE CANDIDATE compare two runs, exit 1 on a regression (loadwatch compare --help)
  loadwatch monitor [options]          probe the checks, alert once per incident (loadwatch monitor --help)
  loadwatch prodtest --base-url URL    verify a deployed or local stack (loadwatch prodtest --help)
  loadwatch help [COMMAND]             this text, or a command's own

Options:
  -h, --help                           help (after a command: that command's)
  -v, --version                        the version

The database is DATABASE_URL when set; otherwise the local stack's embedded PostgreSQL
(the running one, or one started for the length of the command). Configuration: README.md.
`;

const COMMANDS: Record<string, Command> = {
  start: { help: startHelp, run: startCommand },
  migrate: { help: migrateHelp, run: migrateCommand },
  loadtest: { help: loadTestHelp, run: loadTestCommand },
  compare: { help: compareHelp, run: compareCommand },
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
  // Own properties only: "constructor" or "toString" name no command.
  const commandNamed = (key: string | undefined) =>
    key !== undefined && Object.hasOwn(COMMANDS, key) ? COMMANDS[key] : undefined;
  const helpOf = name === 'help' ? commandNamed(rest[0]) : undefined;
  if (helpOf) return printHelp(helpOf.help, io);
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    printHelp(overviewHelp, io);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  const command = commandNamed(name);
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

/**
 * The process entry: runs the CLI, and stops PostgreSQL on crashes too (an orphan would block the next start).
 * When whoever reads the output goes away (a closed pipe: `| head`, a killed parent), the command stops the same
 * way: every later write would fail again, and reporting each failure on stderr fails too, without end.
 */
export function main(argv = process.argv.slice(2)): void {
  let stopping = false;
  const stopEverything = (error?: unknown) => {
    if (stopping) return;
    stopping = true;
    if (error !== undefined && process.stderr.writable) {
      try {
        process.stderr.write(
          terminalSafe(`loadwatch: ${(error as Error)?.stack ?? String(error)}\n`, { keepLines: true }),
        );
      } catch {
        // stderr is gone as well: there is no one left to tell.
      }
    }
    stopAllEmbedded().finally(() => process.exit(EXIT.failed));
  };
  const onOutputError = (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') stopEverything();
    else stopEverything(error);
  };
  process.stdout.on('error', onOutputError);
  process.stderr.on('error', onOutputError);
  process.on('uncaughtException', stopEverything);
  process.on('unhandledRejection', stopEverything);
  runCli(argv).then((code) => process.exit(code));
}
