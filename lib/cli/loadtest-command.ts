// `loadwatch loadtest`: the deployed state machine's definition, run locally against the local stack or --target.

import { closeSync, existsSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import { compareReports, DEFAULT_SIGNIFICANCE, type Tolerance } from '../loadtest/compare.ts';
import { formatComparison } from '../loadtest/compare-format.ts';
import { INSECURE_WARNING, MAX_PEM_BYTES } from '../loadtest/connection-options.ts';
import { LoadTestInputError } from '../loadtest/input-error.ts';
import { describeAbortReason, readLiveResults } from '../loadtest/live.ts';
import { runLocally } from '../loadtest/local-runner.ts';
import { type LoadTestInput, parseLoadTestInput } from '../loadtest/options.ts';
import { describeEstimate } from '../loadtest/plan.ts';
import { plural } from '../loadtest/plural.ts';
import { createLoadTest } from '../loadtest/service.ts';
import type { ShardTask } from '../loadtest/step-deps.ts';
import { LoadTestStore } from '../loadtest/store.ts';
import { refuseDatabasePort } from '../loadtest/target-rules.ts';
import { formatSummary } from '../loadtest/text-summary.ts';
import { dataDirectory, localApiUrl, readStackState } from '../local/stack.ts';
import { createLogger } from '../log/logger.ts';
import { parseScenario, ScenarioError } from '../scenario/schema.ts';
import { terminalJson, terminalSafe } from '../terminal-text.ts';
import { openCommandDatabase } from './command-database.ts';
import { COMPARE_DEFAULTS, parseSignificance, toleranceFrom } from './compare-command.ts';
import { parseFlags } from './flags.ts';
import type { CliIo } from './io.ts';
import { createProgressBar } from './progress.ts';
import { resolveBaseline } from './report-source.ts';
import { UsageError } from './usage-error.ts';

export const loadTestHelp = (config: Config) => `Usage: loadwatch loadtest [SCENARIO.yml] [options]

A scenario file (YAML or JSON: weighted flows of steps with captures, checks and a data feeder; see
docs/production/LOAD_TESTING.md) replaces --endpoint, --method, --header and --body; with it, --requests
and --rate count iterations of a flow.

Closed model (each user sends its requests back to back):
  --users N              virtual users (default 10)
  --requests N           requests per user (default 10)
  --think-time D         pause between a user's requests (e.g. 100ms)
Open model (a fixed arrival rate, latency measured from the intended send time):
  --rate N               requests per second
  --duration D           how long (e.g. 60, 60s, 2m)
  --ramp-up D|STAGES     ramp from 0 to --rate over D, or stages "10s:50,20s:100"
Requests:
  --target URL           base URL (default: ${defaultTarget(config)})
  --endpoint PATH        path to request (default /health); repeat for several, equally weighted
  --method M --header "Name: value" --body TEXT
  --timeout D            per-request timeout (default 10s)
  --workers N            shards run in parallel (default: one per ${config.loadtest.usersPerWorker} users or ${config.loadtest.ratePerWorker} req/s)
Connections:
  --http2                HTTP/2 (ALPN over https, required; prior knowledge over http)
  --cert FILE --key FILE client certificate and its unencrypted key (PEM), for targets that ask for one
  --ca FILE              trust these CA certificates (PEM) for the target instead of Node's roots
  --insecure             do not verify the target's certificate (warned about in the summary and report)
Results:
  --threshold EXPR       pass/fail rule, repeatable: "p95<300", "errors<1%", "rps>=100";
                         ":abort" stops the run once it is lost ("p99<800:abort", after a grace "p99<800:abort:30s")
  --json                 print the report JSON alone on stdout
  --report FILE.html     write a self-contained HTML report (checked before the run starts)
Gate against a baseline (as loadwatch compare; checked before the run starts):
  --baseline ID|latest|FILE  the run to compare with: a run id, the newest passed run against
                         the same target, or a report JSON file; exit 1 on a regression
  --max-regression LIST  tolerances (default ${COMPARE_DEFAULTS})
  --significance P       p-value under which a change is beyond noise (default ${DEFAULT_SIGNIFICANCE})
Without --threshold, a run fails when every request failed (the default threshold errors<100%).
Exit: 0 passed, 1 a threshold failed, the run did not finish or it regressed from --baseline,
2 bad usage or configuration (an unwritable --report path or a --baseline not found included).
`;

/** Flags whose value goes to the input field of the same name in camel case (--ramp-up: rampUp). */
const INPUT_FLAGS = [
  'users',
  'requests',
  'target',
  'rate',
  'duration',
  'ramp-up',
  'think-time',
  'timeout',
  'workers',
  'method',
  'body',
] as const;

function loadTestInputFromArgs(argv: string[]): {
  input: LoadTestInput;
  json: boolean;
  report?: string;
  /** --baseline and how the run is compared with it. */
  gate?: { baseline: string; tolerance: Tolerance; significance: number };
  /** Unknown or malformed flags; the values themselves are checked by parseLoadTestInput. */
  problems: string[];
  /** The scenario file given as the argument. */
  scenarioFile?: string;
} {
  const { values, problems, positionals } = parseFlags(
    argv,
    {
      values: [...INPUT_FLAGS, 'cert', 'key', 'ca', 'report', 'baseline', 'max-regression', 'significance'],
      lists: ['endpoint', 'threshold', 'header'],
      switches: ['http2', 'insecure', 'json'],
    },
    { maxPositionals: 1 },
  );
  const input: LoadTestInput = {};
  const set = <Key extends keyof LoadTestInput>(key: Key, value: LoadTestInput[Key]) => {
    if (value !== undefined) input[key] = value;
  };
  for (const flag of INPUT_FLAGS) {
    const field = flag.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase()) as keyof LoadTestInput;
    set(field, values[flag]);
  }
  if (values.endpoint?.length === 1) set('endpoint', values.endpoint[0]);
  else set('endpoints', values.endpoint);
  set('thresholds', values.threshold);
  set('headers', values.header);
  set('http2', values.http2);
  set('insecure', values.insecure);
  const pemFiles = {
    clientCert: ['cert', values.cert],
    clientKey: ['key', values.key],
    ca: ['ca', values.ca],
  };
  for (const [field, [flag, path]] of Object.entries(pemFiles) as Array<
    [keyof LoadTestInput, [string, string]]
  >) {
    if (path === undefined) continue;
    const read = readPemFile(path);
    if ('text' in read) set(field, read.text);
    else problems.push(`--${flag}: cannot read "${path}": ${read.problem}`);
  }
  const tolerance = toleranceFrom(values['max-regression'], problems);
  const significance = parseSignificance(values.significance, problems);
  if (values.baseline === undefined && (values['max-regression'] ?? values.significance) !== undefined)
    problems.push('--max-regression and --significance apply with --baseline only');
  const gate =
    values.baseline === undefined ? undefined : { baseline: values.baseline, tolerance, significance };
  return {
    input,
    json: values.json === true,
    report: values.report,
    gate,
    problems,
    ...(positionals[0] === undefined ? {} : { scenarioFile: positionals[0] }),
  };
}

/** A PEM file's text, refused unread when it is over the cap the input applies to its text. */
function readPemFile(path: string): { text: string } | { problem: string } {
  try {
    const { size } = statSync(path);
    if (size > MAX_PEM_BYTES)
      return {
        problem: `${size.toLocaleString('en-US')} bytes, over the cap of ${MAX_PEM_BYTES.toLocaleString('en-US')}`,
      };
    return { text: readFileSync(path, 'utf8') };
  } catch (error) {
    return { problem: fileProblem(error, 'no such file') };
  }
}

/** What a file system error means to the person who named the file; `missing` for ENOENT. */
const FILE_PROBLEMS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  EROFS: 'the file system is read-only',
};

function fileProblem(error: unknown, missing: string): string {
  const { code = '', message } = error as NodeJS.ErrnoException;
  return code === 'ENOENT' ? missing : (FILE_PROBLEMS[code] ?? message);
}

/**
 * Refuses a --report path that cannot be written before any request is sent, rather than after the run.
 * Opening it for appending is the exact test (permissions, a missing directory, a read-only disk, a
 * directory in the way) and changes nothing; a file the probe created is removed again.
 */
function ensureWritable(path: string): void {
  const existed = existsSync(path);
  try {
    closeSync(openSync(path, 'a'));
  } catch (error) {
    const why = fileProblem(error, 'its directory does not exist');
    throw new UsageError(`--report: cannot write "${path}": ${why}`, { cause: error });
  }
  if (!existed) unlinkSync(path);
}

/** Where a run goes without --target: the service's own API, the running stack, else localhost on PORT. */
export function defaultTarget(config: Config): string {
  if (config.apiUrl) return config.apiUrl;
  return readStackState(dataDirectory(config))?.apiUrl ?? localApiUrl(config);
}

export async function loadTestCommand(argv: string[], config: Config, io: CliIo): Promise<number> {
  const args = loadTestInputFromArgs(argv);
  const target = defaultTarget(config);
  if (args.scenarioFile !== undefined) {
    // Read here, not by a worker; problems are named by the file's own paths ("checkout.yml: flows[0]…").
    try {
      // The YAML parser is loaded only for a run that reads a scenario file.
      const { readScenarioFile } = await import('../scenario/file.ts');
      const document = readScenarioFile(args.scenarioFile);
      parseScenario(document, { file: args.scenarioFile });
      args.input.scenario = document;
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      throw new UsageError([...args.problems, ...error.problems]);
    }
  }
  if (args.problems.length > 0) {
    // The values are checked too, so that one run names every mistake, not only the flags.
    let valueProblems: string[] = [];
    try {
      parseLoadTestInput(args.input, config.loadtest, target);
    } catch (error) {
      if (!(error instanceof LoadTestInputError)) throw error;
      valueProblems = error.problems;
    }
    throw new UsageError([...args.problems, ...valueProblems]);
  }
  if (args.report) ensureWritable(args.report);
  const logger = createLogger({ level: 'error', write: (line) => io.err(`${line}\n`) });
  const database = await openCommandDatabase(config, 'loadtest', { size: 2, maxOverflow: 8 });
  const stopOnSignal: Array<() => void> = [];
  try {
    const store = new LoadTestStore(database.db);
    const limits = refuseDatabasePort(config.loadtest, database.target);
    // The baseline is found before any request is sent: a wrong one is bad input, not a failed run.
    const baseline = args.gate
      ? await resolveBaseline(
          args.gate.baseline,
          store,
          parseLoadTestInput(args.input, limits, target).target,
        )
      : undefined;
    const run = await createLoadTest(args.input, store, limits, target);
    const { estimate } = run.plan;
    io.err(
      `load test ${run.runId}: ${terminalSafe(run.options.target)}, ~${plural(estimate.requests, 'request')} over ${plural(run.plan.shards, 'worker')}` +
        `; on Lambda ${describeEstimate(estimate)} (caps ${config.loadtest.maxGbSeconds} GB-s, $${config.loadtest.maxUsd})\n` +
        `${run.capacity.note}\n`,
    );
    if (run.options.connection?.insecure) io.err(`WARNING: ${INSECURE_WARNING}\n`);

    const bar = createProgressBar(process.stderr, estimate.requests);
    const shardProgress = new Map<string, { requests: number; failed: number }>();
    const onProgress = (task: ShardTask, progress: { requests: number; failed: number }) => {
      shardProgress.set(`${task.round}:${task.shard}`, progress);
      let done = 0;
      let failed = 0;
      for (const item of shardProgress.values()) {
        done += item.requests;
        failed += item.failed;
      }
      bar.update(done, failed);
    };
    const abort = () => {
      io.err('\nstopping: the requests in flight finish, then the report is written\n');
      store.requestAbort(run.runId).catch(() => undefined);
    };
    process.once('SIGINT', abort);
    stopOnSignal.push(() => process.off('SIGINT', abort));
    // Rate, errors and percentiles as the shards wrote them to PostgreSQL, once a second while drawn.
    let reading = false;
    const liveTimer = process.stderr.isTTY
      ? setInterval(() => {
          if (reading) return;
          reading = true;
          readLiveResults(store, { id: run.runId, options: run.options })
            .then((results) => bar.live(results))
            .catch(() => undefined)
            .finally(() => {
              reading = false;
            });
        }, 1000)
      : undefined;
    stopOnSignal.push(() => clearInterval(liveTimer));

    const outcome = await runLocally(run.runId, { store, logger, progress: onProgress }).result;
    clearInterval(liveTimer);
    bar.finish();
    const record = await store.getRun(run.runId);
    const report = record?.report;
    if (!report) {
      io.err(
        `loadwatch: the load test ended with status ${outcome.status}${record?.error ? `: ${terminalSafe(record.error)}` : ''}\n`,
      );
      return 1;
    }
    if (args.report) {
      const { renderHtmlReport } = await import('../loadtest/html-report.ts');
      writeFileSync(args.report, renderHtmlReport(report));
      io.err(`report written to ${args.report}\n`);
    }
    if (report.abortedBy) io.err(`aborted by its threshold: ${describeAbortReason(report.abortedBy)}\n`);
    if (args.json) io.out(`${terminalJson(report)}\n`);
    else io.out(formatSummary(report, outcome.status));
    let regressed = false;
    if (baseline && args.gate) {
      const comparison = compareReports(baseline, report, args.gate);
      // With --json, stdout holds the report alone.
      (args.json ? io.err : io.out)(terminalSafe(formatComparison(comparison), { keepLines: true }));
      regressed = comparison.regressed;
    }
    return outcome.status === 'passed' && !regressed ? 0 : 1;
  } finally {
    for (const remove of stopOnSignal) remove();
    await database.close();
  }
}
