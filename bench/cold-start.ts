// Cold-start time on Node 22: fresh processes that import a bundle and answer GET /health once.

import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { healthEvent, LAMBDA_ENV, lambdaContext, REMAINING_TIME_MS } from './support/lambda-invocation.ts';
import { formatMilliseconds, formatRatio, type Table } from './support/report.ts';
import { type Spread, spread } from './support/statistics.ts';

const PROBE = fileURLToPath(new URL('./support/cold-start-probe.mjs', import.meta.url));
/** A probe that has not answered by then is hung, not slow. */
const PROBE_TIMEOUT_MS = 15_000;
export const DEFAULT_COLD_START_RUNS = 15;
/** The api bundle's import, median wall time, on Node 22. */
export const API_IMPORT_TARGET_MS = 35;
/** The function's environment on Lambda, NODE_OPTIONS included as serverless.yml sets it for every function. */
const PROBE_ENV: Record<string, string> = { ...LAMBDA_ENV, NODE_OPTIONS: '--enable-source-maps' };

export interface ProbeSample {
  /** From process start to the first line of the probe: Node's own boot. */
  bootMs: number;
  /** Importing the bundle: module load and the handler's init code. */
  importMs: number;
  /** CPU time of the import, every thread of the process. */
  importCpuMs: number;
  /** From the first line of the probe to the first response: import plus the first invocation. */
  firstResponseMs: number;
  /** From spawn to exit, as the parent sees it. */
  wallMs: number;
}

export interface ColdStartFigures {
  bootMs: Spread;
  importMs: Spread;
  importCpuMs: Spread;
  firstResponseMs: Spread;
  wallMs: Spread;
}

export interface ColdStartResult {
  runs: number;
  node: string;
  anchor: ColdStartFigures;
  loadwatch: ColdStartFigures;
  /** loadwatch median over anchor median. */
  ratio: { firstResponse: number; import: number; wall: number };
}

interface ProbeReport {
  bootMs: number;
  importMs: number;
  importCpuMs: number;
  firstResponseMs: number;
  statusCode: number;
}

function probe(bundlePath: string): Promise<ProbeSample> {
  const invocation = JSON.stringify({
    event: healthEvent(),
    context: lambdaContext(),
    remainingTimeMs: REMAINING_TIME_MS,
  });
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    // Only the function's own environment: nothing from the caller's shell or npm leaks in.
    const child = spawn(process.execPath, [PROBE, pathToFileURL(bundlePath).href, invocation], {
      env: PROBE_ENV,
      // stdout (the request log) goes to /dev/null; the report comes back on fd 3.
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      timeout: PROBE_TIMEOUT_MS,
    });
    let exitedAt = started;
    let report = '';
    let errors = '';
    child.stdio[3]?.on('data', (chunk: Buffer) => {
      report += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      errors += chunk.toString('utf8');
    });
    child.on('exit', () => {
      exitedAt = process.hrtime.bigint();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0 || report === '') {
        reject(
          new Error(`cold-start probe of ${bundlePath} failed (${signal ?? `exit ${code}`}):\n${errors}`),
        );
        return;
      }
      const parsed = JSON.parse(report) as ProbeReport;
      if (parsed.statusCode !== 200) {
        reject(new Error(`cold-start probe of ${bundlePath} answered ${parsed.statusCode}, not 200`));
        return;
      }
      resolve({
        bootMs: parsed.bootMs,
        importMs: parsed.importMs,
        importCpuMs: parsed.importCpuMs,
        firstResponseMs: parsed.firstResponseMs,
        wallMs: Number(exitedAt - started) / 1e6,
      });
    });
  });
}

function figures(samples: ProbeSample[]): ColdStartFigures {
  return {
    bootMs: spread(samples.map((sample) => sample.bootMs)),
    importMs: spread(samples.map((sample) => sample.importMs)),
    importCpuMs: spread(samples.map((sample) => sample.importCpuMs)),
    firstResponseMs: spread(samples.map((sample) => sample.firstResponseMs)),
    wallMs: spread(samples.map((sample) => sample.wallMs)),
  };
}

export async function measureColdStart(options: {
  anchorBundle: string;
  loadwatchBundle: string;
  runs?: number;
}): Promise<ColdStartResult> {
  const runs = options.runs ?? DEFAULT_COLD_START_RUNS;
  // One unrecorded run each, so that neither pays alone for reading the node binary and bundle from disk.
  await probe(options.anchorBundle);
  await probe(options.loadwatchBundle);
  const anchorSamples: ProbeSample[] = [];
  const loadwatchSamples: ProbeSample[] = [];
  for (let run = 0; run < runs; run += 1) {
    // Interleaved, so that a busy moment on the machine hits both alike.
    anchorSamples.push(await probe(options.anchorBundle));
    loadwatchSamples.push(await probe(options.loadwatchBundle));
  }
  const anchor = figures(anchorSamples);
  const loadwatch = figures(loadwatchSamples);
  return {
    runs,
    node: process.version,
    anchor,
    loadwatch,
    ratio: {
      firstResponse: loadwatch.firstResponseMs.median / anchor.firstResponseMs.median,
      import: loadwatch.importMs.median / anchor.importMs.median,
      wall: loadwatch.wallMs.median / anchor.wallMs.median,
    },
  };
}

export function coldStartTable(result: ColdStartResult): Table {
  const cell = (value: Spread) => `${formatMilliseconds(value.median)} / ${formatMilliseconds(value.p90)}`;
  const row = (name: string, entry: ColdStartFigures) => [
    name,
    cell(entry.firstResponseMs),
    cell(entry.importMs),
    cell(entry.importCpuMs),
    cell(entry.wallMs),
  ];
  const importMs = result.loadwatch.importMs.median;
  return {
    title: `Cold start on Node ${result.node} (${result.runs} fresh processes each; median / p90)`,
    columns: ['bundle', 'first response', 'of which import', 'import CPU', 'process wall time'],
    rows: [
      row('anchor: bare handler bundle', result.anchor),
      row('loadwatch: functions/api.ts bundle', result.loadwatch),
      [
        'ratio (medians)',
        formatRatio(result.ratio.firstResponse),
        formatRatio(result.ratio.import),
        formatRatio(result.loadwatch.importCpuMs.median / result.anchor.importCpuMs.median),
        formatRatio(result.ratio.wall),
      ],
    ],
    notes: [
      `api import: ${formatMilliseconds(importMs)} median, target ≤ ${API_IMPORT_TARGET_MS} ms · ` +
        `${importMs <= API_IMPORT_TARGET_MS ? 'met' : 'not met'} (anchor ${formatMilliseconds(result.anchor.importMs.median)})`,
      'first response: from the probe script starting to the first `await handler(GET /health)` returning',
      'import CPU: user + system time of every thread during the import, which a busy machine inflates less',
      'process wall time: spawn to exit of `node` running the probe (includes Node boot and teardown)',
      `environment: ${Object.entries(PROBE_ENV)
        .map(([name, value]) => `${name}=${value}`)
        .join(' ')}`,
    ],
  };
}
