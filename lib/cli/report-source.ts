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
  const body = value as { report?: unknown; status?: unknown } | null;
  if (
    body !== null &&
    typeof body === 'object' &&
    'status' in body &&
    body.report === undefined &&
    !('totals' in body)
  )
    throw new CompareInputError([
      `${origin}: the run is ${String(body.status)}; its report comes when it ends`,
    ]);
  const report = (
    body !== null && typeof body === 'object' && 'report' in body ? body.report : body
  ) as Record<string, unknown> | null;
  if (report === null || typeof report !== 'object')
    throw new CompareInputError([`${origin}: not a load-test report (a JSON object from "loadtest --json")`]);
  const missing = REQUIRED.filter((key) => report[key] === undefined);
  if (missing.length)
    throw new CompareInputError([`${origin}: not a load-test report (no ${missing.join(', ')})`]);
  if (!Array.isArray(report.timeline)) throw new CompareInputError([`${origin}: timeline is not a list`]);
  return report as unknown as ReportWithSteps;
}

export function readReportFile(path: string): ReportWithSteps {
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
    if (existsSync(source)) return readReportFile(source);
    if (!RUN_ID.test(source))
      throw new CompareInputError([
        `--baseline: "${source}" is neither a report file, a run id nor "latest"`,
      ]);
    return reportOfRun(store, source);
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

/** Opens the database once, on the first run id that needs it, and closes it with close(). */
export class ReportSources {
  private database: CommandDatabase | undefined;

  private readonly config: Config;
  private readonly api: string | undefined;

  constructor(config: Config, api?: string) {
    this.config = config;
    this.api = api;
  }

  async store(): Promise<LoadTestStore> {
    this.database ??= await openCommandDatabase(this.config, 'compare', { size: 1, maxOverflow: 1 });
    return new LoadTestStore(this.database.db);
  }

  /** A report file when the path exists, else a run id. */
  async load(source: string): Promise<ReportWithSteps> {
    if (existsSync(source)) return readReportFile(source);
    if (!RUN_ID.test(source))
      throw new CompareInputError([`"${source}" is neither a report file nor a run id (no such file)`]);
    if (this.api) return fetchReport(this.api, source);
    return reportOfRun(await this.store(), source);
  }

  async close(): Promise<void> {
    if (!this.database) return;
    await this.database.close();
    this.database = undefined;
  }
}
