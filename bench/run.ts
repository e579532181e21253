// Runs every benchmark and prints each figure beside its anchor: `npm run bench`, or `npm run bench -- --json`.

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ApiOverheadResult, apiOverheadTable, measureApiOverhead } from './api-overhead.ts';
import { type BundleResult, buildBundles, bundleTable, functionBundlesTable } from './bundle.ts';
import {
  type ColdStartResult,
  coldStartTable,
  DEFAULT_COLD_START_RUNS,
  measureColdStart,
} from './cold-start.ts';
import { type GrowthResult, growthTables, measureGrowth } from './growth.ts';
import { type LoadEngineResult, loadEngineTables, measureLoadEngine } from './load-engine.ts';
import { type LocalThreadsResult, localThreadsTable, measureLocalThreads } from './local-threads.ts';
import { type MergeCostResult, measureMergeCost, mergeCostTables } from './merge-cost.ts';
import { measureStateMachine, type StateMachineResult, stateMachineTable } from './state-machine.ts';
import { renderTable } from './support/report.ts';
import { measureWorkerCapacity, type WorkerCapacityResult, workerCapacityTable } from './worker-capacity.ts';

const SECTIONS = [
  'api-overhead',
  'bundle',
  'cold-start',
  'load-engine',
  'worker-capacity',
  'local-threads',
  'state-machine',
  'merge-cost',
  'growth',
] as const;
type Section = (typeof SECTIONS)[number];

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    'cold-start-runs': { type: 'string', default: String(DEFAULT_COLD_START_RUNS) },
    'merge-runs': { type: 'string', default: '3' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (flags.help) {
  console.log(`usage: npm run bench [-- --json] [-- --only SECTION[,SECTION]] [-- --cold-start-runs N] [-- --merge-runs N]

Measures loadwatch against named anchors: per-request overhead of the API in process, bundle size, cold start,
and the load engine (request rate, latency accuracy, coordinated omission) against autocannon, and its
capacity on one core (requests per CPU-second), the figure the planner sizes Lambda workers from; a local run's
shards on one worker thread against two; and the load test's state machine at 10,000 shards (largest payload
and history events against Step Functions' limits); and the cost of merging shard results (time, memory,
storage) against decoding every histogram; and the API's read routes, the monitor's cycle and retention on a
month of data against a fresh database.
--json                 print the figures as JSON instead of tables
--only SECTIONS        run only these sections, comma-separated or repeated: ${SECTIONS.join(', ')}
--cold-start-runs N    fresh processes per bundle for the cold start (default ${DEFAULT_COLD_START_RUNS})
--merge-runs N         Aggregate steps timed per merge-cost run size (default 3)`);
  process.exit(0);
}

const requested = (flags.only ?? []).flatMap((value) => value.split(',')).map((value) => value.trim());
const unknown = requested.filter((value) => !(SECTIONS as readonly string[]).includes(value));
if (unknown.length > 0) {
  console.error(
    `--only: ${unknown.map((value) => `"${value}"`).join(', ')} not one of ${SECTIONS.join(', ')}`,
  );
  process.exit(2);
}
const selected = new Set<Section>(requested.length > 0 ? (requested as Section[]) : SECTIONS);

const coldStartRuns = Number(flags['cold-start-runs']);
if (!Number.isInteger(coldStartRuns) || coldStartRuns < 1) {
  console.error(`--cold-start-runs: "${flags['cold-start-runs']}" is not a positive whole number`);
  process.exit(2);
}

const mergeRuns = Number(flags['merge-runs']);
if (!Number.isInteger(mergeRuns) || mergeRuns < 1) {
  console.error(`--merge-runs: "${flags['merge-runs']}" is not a positive whole number`);
  process.exit(2);
}

// Progress goes to stderr, so that stdout holds only the figures.
const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);

const cores = availableParallelism();
const environment = {
  node: process.version,
  v8: process.versions.v8,
  platform: `${process.platform} ${process.arch}`,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores,
  loadAverageAtStart: Number((loadavg()[0] ?? 0).toFixed(2)),
};

const started = performance.now();
const packageDir = mkdtempSync(join(tmpdir(), 'loadwatch-bench-'));
try {
  let apiOverhead: ApiOverheadResult | undefined;
  let bundles: BundleResult | undefined;
  let coldStart: ColdStartResult | undefined;
  let loadEngine: LoadEngineResult | undefined;
  let workerCapacity: WorkerCapacityResult | undefined;
  let stateMachine: StateMachineResult | undefined;
  let mergeCost: MergeCostResult | undefined;
  let growth: GrowthResult | undefined;
  if (selected.has('api-overhead')) {
    progress('API per-request overhead (about 10 s)');
    apiOverhead = await measureApiOverhead();
  }
  // The cold start runs the bundles, so it builds them even when their sizes are not asked for.
  if (selected.has('bundle') || selected.has('cold-start')) {
    progress('bundles');
    bundles = await buildBundles(packageDir);
  }
  if (selected.has('cold-start') && bundles) {
    progress(`cold start (${coldStartRuns} processes per bundle)`);
    coldStart = await measureColdStart({
      anchorBundle: bundles.anchor.path,
      loadwatchBundle: bundles.loadwatch.path,
      runs: coldStartRuns,
    });
  }
  if (selected.has('load-engine')) loadEngine = await measureLoadEngine(progress);
  if (selected.has('worker-capacity')) workerCapacity = await measureWorkerCapacity(progress);
  let localThreads: LocalThreadsResult | undefined;
  if (selected.has('local-threads')) {
    progress('local run on one worker thread against two (about 20 s)');
    localThreads = await measureLocalThreads();
  }
  if (selected.has('state-machine')) stateMachine = await measureStateMachine(progress);
  if (selected.has('merge-cost')) mergeCost = await measureMergeCost(progress, { runs: mergeRuns });
  if (selected.has('growth')) growth = await measureGrowth(progress);
  const bundle = selected.has('bundle') ? bundles : undefined;
  const durationSeconds = (performance.now() - started) / 1000;

  if (flags.json) {
    console.log(
      JSON.stringify(
        {
          environment,
          durationSeconds,
          apiOverhead,
          bundle,
          coldStart,
          loadEngine,
          workerCapacity,
          localThreads,
          stateMachine,
          mergeCost,
          growth,
        },
        null,
        2,
      ),
    );
  } else {
    const busy =
      environment.loadAverageAtStart > cores / 2
        ? ` (busy machine: load ${environment.loadAverageAtStart} on ${cores} cores, expect noise)`
        : '';
    console.log(
      [
        `loadwatch bench: Node ${environment.node} (V8 ${environment.v8}), ${environment.platform}, ` +
          `${cores} × ${environment.cpu}${busy}`,
        ...(apiOverhead ? [renderTable(apiOverheadTable(apiOverhead))] : []),
        ...(bundle ? [renderTable(bundleTable(bundle)), renderTable(functionBundlesTable(bundle))] : []),
        ...(coldStart ? [renderTable(coldStartTable(coldStart))] : []),
        ...(loadEngine ? loadEngineTables(loadEngine).map(renderTable) : []),
        ...(workerCapacity ? [renderTable(workerCapacityTable(workerCapacity))] : []),
        ...(localThreads ? [renderTable(localThreadsTable(localThreads))] : []),
        ...(stateMachine ? [renderTable(stateMachineTable(stateMachine))] : []),
        ...(mergeCost ? mergeCostTables(mergeCost).map(renderTable) : []),
        ...(growth ? growthTables(growth).map(renderTable) : []),
        `finished in ${durationSeconds.toFixed(1)} s`,
      ].join('\n\n'),
    );
  }
} finally {
  rmSync(packageDir, { recursive: true, force: true });
}
