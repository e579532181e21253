// Runs every benchmark and prints each figure beside its anchor: `npm run bench`, or `npm run bench -- --json`.

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { apiOverheadTable, measureApiOverhead } from './api-overhead.ts';
import { buildBundles, bundleTable } from './bundle.ts';
import { coldStartTable, DEFAULT_COLD_START_RUNS, measureColdStart } from './cold-start.ts';
import { renderTable } from './support/report.ts';

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'cold-start-runs': { type: 'string', default: String(DEFAULT_COLD_START_RUNS) },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (flags.help) {
  console.log(`usage: npm run bench [-- --json] [-- --cold-start-runs N]

Measures the API handler against named anchors: per-request overhead in process, bundle size, cold start.
--json                 print the figures as JSON instead of tables
--cold-start-runs N    fresh processes per bundle for the cold start (default ${DEFAULT_COLD_START_RUNS})`);
  process.exit(0);
}

const coldStartRuns = Number(flags['cold-start-runs']);
if (!Number.isInteger(coldStartRuns) || coldStartRuns < 1) {
  console.error(`--cold-start-runs: "${flags['cold-start-runs']}" is not a positive whole number`);
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
  progress('API per-request overhead (about 10 s)');
  const apiOverhead = await measureApiOverhead();
  progress('bundles');
  const bundle = await buildBundles(packageDir);
  progress(`cold start (${coldStartRuns} processes per bundle)`);
  const coldStart = await measureColdStart({
    anchorBundle: bundle.anchor.path,
    loadwatchBundle: bundle.loadwatch.path,
    runs: coldStartRuns,
  });
  const durationSeconds = (performance.now() - started) / 1000;

  if (flags.json) {
    console.log(JSON.stringify({ environment, durationSeconds, apiOverhead, bundle, coldStart }, null, 2));
  } else {
    const busy =
      environment.loadAverageAtStart > cores / 2
        ? ` (busy machine: load ${environment.loadAverageAtStart} on ${cores} cores, expect noise)`
        : '';
    console.log(
      [
        `loadwatch bench: Node ${environment.node} (V8 ${environment.v8}), ${environment.platform}, ` +
          `${cores} × ${environment.cpu}${busy}`,
        renderTable(apiOverheadTable(apiOverhead)),
        renderTable(bundleTable(bundle)),
        renderTable(coldStartTable(coldStart)),
        `finished in ${durationSeconds.toFixed(1)} s`,
      ].join('\n\n'),
    );
  }
} finally {
  rmSync(packageDir, { recursive: true, force: true });
}
