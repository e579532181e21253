// loadwatch start: PostgreSQL, migrations, the API and the monitor, until Ctrl-C.

import { SERVICE_VERSION } from '../api/create-api.ts';
import type { Config } from '../config/config.ts';
import { EXIT } from '../errors.ts';
import { DEMO_SHOP_PORT, serveDemoShop } from '../local/demo-shop.ts';
import { describeDataLocation, localApiUrl, startLocalStack } from '../local/stack.ts';
import { createStackLog } from '../local/stack-log.ts';
import { parseFlags } from './flags.ts';
import type { CliIo } from './io.ts';
import { UsageError } from './usage-error.ts';

export const startHelp = (config: Config) => `Usage: loadwatch start

  Starts PostgreSQL (DATABASE_URL, or the embedded one in ${config.dataDir}), applies pending migrations,
  then serves the API on ${localApiUrl(config)} (PORT) with the monitor running every ${config.monitor.intervalSeconds}s.
  --demo-shop           also serve a small shop API (login, catalogue, cart, checkout) on
                        http://127.0.0.1:${DEMO_SHOP_PORT}, the target of the scenario examples in docs/production/LOAD_TESTING.md
  --demo-shop-port N    the demo shop on another port (implies --demo-shop)
  -h, --help            this text
Exit: 0 after Ctrl-C or SIGTERM, 1 when the stack cannot start, 2 for bad usage or configuration.
`;

export async function startCommand(args: string[], config: Config, io: CliIo): Promise<number> {
  const { values, problems } = parseFlags(args, { values: ['demo-shop-port'], switches: ['demo-shop'] });
  const demoShopPort =
    values['demo-shop-port'] === undefined ? DEMO_SHOP_PORT : Number(values['demo-shop-port']);
  if (!Number.isInteger(demoShopPort) || demoShopPort < 1 || demoShopPort > 65_535) {
    problems.push(`--demo-shop-port: "${values['demo-shop-port']}" is not a port (1 to 65535)`);
  }
  if (problems.length > 0) throw new UsageError(problems);
  // Before PostgreSQL starts: a port in use is said at once, with nothing to stop.
  const demoShop =
    values['demo-shop'] || values['demo-shop-port'] !== undefined
      ? await serveDemoShop(demoShopPort)
      : undefined;
  const log = createStackLog(config, { stdoutIsTerminal: process.stdout.isTTY === true });
  const stack = await startLocalStack(config, log.logger).catch(async (error: unknown) => {
    await demoShop?.close();
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
      ...(demoShop
        ? [`  demo shop    ${demoShop.url}   (the scenario examples' target: docs/production/scenarios/)`]
        : []),
      `  pool         ${config.pool.size} + ${config.pool.maxOverflow} overflow, timeout ${config.pool.timeoutSeconds}s`,
      '  Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolveStop) => {
    const shutdown = (signal: string) => {
      io.err(`\n${signal}: stopping the API and PostgreSQL…\n`);
      Promise.all([stack.stop(), demoShop?.close()]).then(() => resolveStop(), resolveStop);
    };
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, () => shutdown(signal));
  });
  await log.close();
  io.err('stopped\n');
  return EXIT.ok;
}
