// `loadwatch prodtest`: verifies a deployed or local stack group by group; 0 all passed, 1 a test failed, 2 usage.

import { writeFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import { listMigrations } from '../db/migrations.ts';
import { parseThreshold } from '../loadtest/thresholds.ts';
import { dataDirectory, readStackState } from '../local/stack.ts';
import { GROUPS, runGroups } from '../prodtest/groups.ts';
import { toJunit } from '../prodtest/junit.ts';
import { terminalJson, terminalSafe } from '../terminal-text.ts';
import { isHttpUrl, ORIGIN, wholeNumberOf } from '../validation/rules.ts';
import { parseFlags } from './flags.ts';
import type { CliIo } from './io.ts';
import { UsageError } from './usage-error.ts';

export const PRODTEST_HELP = `Usage: loadwatch prodtest --base-url URL [options]

  --base-url URL          the stack to verify (default: the running local stack)
  --test GROUP            all (default), ${GROUPS.join(', ')}; repeatable
  --allowed-origin ORIGIN an origin CORS_ORIGINS allows; without it the cors group checks
                          that the stack is same-origin only (CORS_ORIGINS empty)
  --denied-origin ORIGIN  an origin it must refuse (default https://denied.invalid)
  --token TOKEN           a valid bearer token: checks that it is accepted (nothing is started)
  --load-users N          users for the load group (default 10, at most 50)
  --load-requests N       requests per user (default 20, at most 100)
  --threshold EXPR        load-group thresholds (default "p95<1000" and "errors<1%"); repeatable
  --timeout MS            per-request timeout (default 10000)
  --json                  print the results as JSON alone on stdout
  --junit FILE            also write JUnit XML
Exit: 0 when every test passes, 1 when one fails, 2 for bad usage.
`;

export async function prodtestCommand(argv: string[], config: Config, io: CliIo): Promise<number> {
  const { values, problems } = parseFlags(argv, {
    values: [
      'base-url',
      'allowed-origin',
      'denied-origin',
      'token',
      'load-users',
      'load-requests',
      'timeout',
      'junit',
    ],
    lists: ['test', 'threshold'],
    switches: ['json'],
  });
  const baseUrl = (values['base-url'] ?? readStackState(dataDirectory(config))?.apiUrl ?? '').replace(
    /\/$/,
    '',
  );
  if (!isHttpUrl(baseUrl)) {
    problems.push(
      values['base-url']
        ? `--base-url: "${values['base-url']}" is not an http(s) URL`
        : '--base-url is required (no local stack is running)',
    );
  }
  const requested = values.test ?? ['all'];
  for (const name of requested) {
    if (name !== 'all' && !(GROUPS as readonly string[]).includes(name)) {
      problems.push(`--test: "${name}" is not one of all, ${GROUPS.join(', ')}`);
    }
  }
  const groups = requested.includes('all')
    ? [...GROUPS]
    : GROUPS.filter((group) => requested.includes(group));
  for (const flag of ['allowed-origin', 'denied-origin'] as const) {
    const value = values[flag];
    if (value !== undefined && !ORIGIN.test(value))
      problems.push(`--${flag}: "${value}" is not an origin (scheme://host[:port])`);
  }
  const thresholds = values.threshold ?? ['p95<1000', 'errors<1%'];
  for (const expression of thresholds) {
    try {
      parseThreshold(expression);
    } catch (error) {
      problems.push(`--threshold: ${(error as Error).message}`);
    }
  }
  const bounded = (flag: 'timeout' | 'load-users' | 'load-requests', fallback: number, max: number) => {
    const value = values[flag];
    if (value === undefined) return fallback;
    const parsed = wholeNumberOf(value);
    if (parsed === undefined || parsed < 1 || parsed > max) {
      problems.push(`--${flag}: "${value}" must be a whole number from 1 to ${max}`);
      return fallback;
    }
    return parsed;
  };
  const timeoutMs = bounded('timeout', 10_000, 120_000);
  const users = bounded('load-users', 10, 50);
  const requests = bounded('load-requests', 20, 100);
  if (problems.length > 0) throw new UsageError(problems);
  const started = new Date();
  const results = await runGroups(
    groups,
    {
      baseUrl,
      allowedOrigin: values['allowed-origin'],
      deniedOrigin: values['denied-origin'] ?? 'https://denied.invalid',
      token: values.token,
      latestMigration: listMigrations().at(-1) ?? null,
      timeoutMs,
      load: {
        users,
        requests,
        thresholds,
      },
    },
    (result) => {
      if (!values.json)
        io.out(
          `${result.passed ? 'PASS' : 'FAIL'}  ${result.group.padEnd(8)} ${result.name}: ${terminalSafe(result.reason)}\n`,
        );
    },
  );
  const failed = results.filter((result) => !result.passed).length;
  if (values.junit) writeFileSync(values.junit, toJunit(results, baseUrl, started));
  if (values.json) {
    io.out(
      `${terminalJson({ baseUrl, passed: failed === 0, totals: { tests: results.length, passed: results.length - failed, failed }, results })}\n`,
    );
  } else {
    io.out(`\n${results.length - failed} passed, ${failed} failed (${baseUrl})\n`);
  }
  return failed === 0 ? 0 : 1;
}
