// loadwatch migrate: apply, revert or list migrations on the local stack's database or DATABASE_URL.

import type { Config } from '../config/config.ts';
import { parseMigrateRequest, runMigrateRequest } from '../db/migrate-command.ts';
import { EXIT } from '../errors.ts';
import { acquireLocalDatabase } from '../local/stack.ts';
import { wholeNumberOf } from '../validation/rules.ts';
import { parseFlags } from './flags.ts';
import type { CliIo } from './io.ts';
import { UsageError } from './usage-error.ts';

export const migrateHelp = () => `Usage: loadwatch migrate up|down|status [N] [options]

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

export async function migrateCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  // A bare "migrate" used to mean "up"; it now names the choices instead of guessing which one was meant.
  if (args.length === 0) {
    io.out(migrateHelp());
    return EXIT.usage;
  }
  const { values, positionals, problems } = parseFlags(
    args,
    { switches: ['json', 'all'] },
    { maxPositionals: 2 },
  );
  const [action, count] = positionals;
  if (action === undefined) problems.unshift('migrate: name an action: up, down or status');
  const countNumber = count === undefined ? undefined : wholeNumberOf(count);
  if (count !== undefined && countNumber === undefined)
    problems.push(`count: "${count}" is not a whole number`);
  if (problems.length > 0) throw new UsageError(problems);
  const request = parseMigrateRequest({
    action,
    ...(countNumber === undefined ? {} : { count: countNumber }),
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
