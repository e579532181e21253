// Where a report to compare comes from: a report JSON file, a run id read from the API (--api) or from the
// database every command uses (DATABASE_URL, the running stack's, or one started for the command).

import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import { CompareInputError } from '../loadtest/compare.ts';
import type { ReportWithSteps } from '../loadtest/step-report.ts';
import { LoadTestStore } from '../loadtest/store.ts';
import { type CommandDatabase, openCommandDatabase } from './command-database.ts';

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What a comparison reads of a report: the rest may be missing from a file written by hand. */
const REQUIRED: Array<keyof ReportWithSteps> = [
  'runId',
  'target',
  'totals',
  'latencyMs',
  'errorPercent',
  'rps',
  'timeline',
];

/** A report as given: the report itself (`loadtest --json`) or the API's answer holding it. */
function reportFrom(value: unknown, origin: string): ReportWithSteps {
  const body = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  if (body && 'status' in body && body.report === undefined && !('totals' in body))
    throw new CompareInputError([
      `${origin}: the run is ${String(body.status)}; its report comes when it ends`,
    ]);
  const report = (body && 'report' in body ? body.report : value) as Record<string, unknown> | null;
  if (report === null || typeof report !== 'object')
    throw new CompareInputError([`${origin}: not a load-test report (a JSON object from "loadtest --json")`]);
  const missing = REQUIRED.filter((key) => report[key] === undefined);
  if (missing.length)
    throw new CompareInputError([`${origin}: not a load-test report (no ${missing.join(', ')})`]);
  if (!Array.isArray(report.timeline)) throw new CompareInputError([`${origin}: timeline is not a list`]);
  return report as unknown as ReportWithSteps;
}

function readReportFile(path: string): ReportWithSteps {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CompareInputError([
      `${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`,
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CompareInputError([`${path}: not JSON (${(error as Error).message})`]);
  }
  return reportFrom(parsed, path);
}

async function fetchReport(api: string, id: string): Promise<ReportWithSteps> {
  const url = new URL(`/v1/loadtests/${encodeURIComponent(id)}`, api);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new CompareInputError([`--api ${api}: no answer (${(error as Error).message})`]);
  }
  if (response.status === 404) throw new CompareInputError([`no load test ${id} at ${api}`]);
  if (!response.ok) throw new CompareInputError([`${url.href}: answered ${response.status}`]);
  return reportFrom(await response.json(), `load test ${id}`);
}

async function reportOfRun(store: LoadTestStore, id: string): Promise<ReportWithSteps> {
  const run = await store.getRun(id);
  if (!run) throw new CompareInputError([`no load test ${id} in this database`]);
  if (!run.report)
    throw new CompareInputError([`load test ${id} is ${run.status}; its report comes when it ends`]);
  return run.report;
}

/** A report file when the path exists, else a run id; `neither` says what else `source` may be. */
async function fileOrRun(
  source: string,
  neither: string,
  reportOf: (id: string) => Promise<ReportWithSteps>,
): Promise<ReportWithSteps> {
  if (existsSync(source)) return readReportFile(source);
  if (!RUN_ID.test(source)) throw new CompareInputError([neither]);
  return reportOf(source);
}

/** Runs "latest" looks through, newest first. */
const LATEST_SEARCH = 100;

/**
 * The baseline of `loadtest --baseline`: a report file, a run id, or "latest", the newest run against the same
 * target that passed (a failed run makes a poor yardstick).
 */
export async function resolveBaseline(
  source: string,
  store: LoadTestStore,
  target: string,
): Promise<ReportWithSteps> {
  if (source !== 'latest') {
    const neither = `--baseline: "${source}" is neither a report file, a run id nor "latest"`;
    return fileOrRun(source, neither, (id) => reportOfRun(store, id));
  }
  const latest = (await store.listRuns(LATEST_SEARCH)).find(
    (run) => run.status === 'passed' && run.target === target,
  );
  if (!latest)
    throw new CompareInputError([
      `--baseline latest: no passed run against ${target} among the last ${LATEST_SEARCH}; run one first, or give a run id or a report file`,
    ]);
  return reportOfRun(store, latest.id);
}

/**
 * The reports `loadwatch compare` reads: run ids from `api` when given, else from the database, which is opened
 * once, on the first run id that needs it, and closed with close().
 */
export function reportSources(config: Config, api?: string) {
  let database: CommandDatabase | undefined;
  const fromDatabase = async (id: string) => {
    database ??= await openCommandDatabase(config, 'compare', { size: 1, maxOverflow: 1 });
    return reportOfRun(new LoadTestStore(database.db), id);
  };
  return {
    load: (source: string) =>
      fileOrRun(
        source,
        `"${source}" is neither a report file nor a run id (no such file)`,
        api ? (id) => fetchReport(api, id) : fromDatabase,
      ),
    async close() {
      await database?.close();
      database = undefined;
    },
  };
}
