// loadwatch start: PostgreSQL, migrations, the API and the monitor, until Ctrl-C.

import { SERVICE_VERSION } from '../api/create-api.ts';
import type { Config } from '../config/config.ts';
import { EXIT } from '../errors.ts';
import { describeDataLocation, startLocalStack } from '../local/stack.ts';
import { createStackLog } from '../local/stack-log.ts';
import { parseFlags } from './flags.ts';
import type { CliIo } from './io.ts';
import { UsageError } from './usage-error.ts';

export const localApi = (config: Config) => `http://localhost:${config.port}`;

export const startHelp = (config: Config) => `Usage: loadwatch start

  Starts PostgreSQL (DATABASE_URL, or the embedded one in ${config.dataDir}), applies pending migrations,
  then serves the API on ${localApi(config)} (PORT) with the monitor running every ${config.monitor.intervalSeconds}s.
  -h, --help    this text
Exit: 0 after Ctrl-C or SIGTERM, 1 when the stack cannot start, 2 for bad usage or configuration.
`;

export async function startCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const { problems } = parseFlags(args, {});
  if (problems.length > 0) throw new UsageError(problems);
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
