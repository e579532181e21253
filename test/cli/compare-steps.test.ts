// `loadwatch compare` step by step on real local scenario runs: one step of three made 30 % slower is the one
// regression, judged on that step's own per-second samples, while the untouched step stays within tolerance.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Comparison, MetricComparison } from '../../lib/loadtest/compare.ts';
import { runCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

/** Milliseconds each path takes; under /slower (the third run's target) /orders is 30 % slower. */
const delays: Record<string, number> = {
  '/catalog': 20,
  '/orders': 100,
  '/slower/catalog': 20,
  '/slower/orders': 130,
};
/**
 * Three catalog requests, then an order: the whole run's per-second p50 is the catalog's, so a slower order
 * shows only in the order step's own samples. Open model: iterations start at a set rate, so a slower order
 * leaves the catalog's rate alone (in the closed model every step's rate would drop with it).
 */
const SCENARIO = JSON.stringify({
  flows: [
    {
      steps: [
        { loop: { count: 3, steps: [{ name: 'catalog', path: '/catalog' }] } },
        { name: 'orders', path: '/orders' },
      ],
    },
  ],
});
const RUN = ['--rate', '8', '--duration', '7s'];

describe('loadwatch compare, step by step', () => {
  const dataDir = scratchDataDir('compare-steps-cli');
  const folder = mkdtempSync(join(tmpdir(), 'loadwatch-compare-steps-'));
  let database: TestDatabase;
  let server: Server;
  let target: string;
  const env = () => ({
    DATABASE_URL: database.url,
    LOADWATCH_DATA_DIR: dataDir.path,
    LOADTEST_MAX_CONCURRENT_RUNS: '3',
  });
  const runs = { first: '', second: '', slower: '' };

  async function loadTest(path = '') {
    const result = await runCli(
      ['loadtest', join(folder, 'shop.json'), '--target', target + path, ...RUN],
      env(),
      120_000,
    );
    const id = result.output.match(/load test ([0-9a-f-]{36}):/)?.[1];
    if (!id) throw new Error(`no run id in:\n${result.output}`);
    return id;
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    server = createServer((request, response) => {
      setTimeout(() => response.end('{}'), delays[request.url ?? ''] ?? 1);
    });
    target = await listenLocally(server);
    writeFileSync(join(folder, 'shop.json'), SCENARIO);
    // At once, so that whatever else the machine does meanwhile weighs on the three runs alike: run after run, a
    // busier moment for one would be a real difference between them, not noise.
    [runs.first, runs.second, runs.slower] = await Promise.all([loadTest(), loadTest(), loadTest('/slower')]);
  }, 400_000);
  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await database?.drop();
    dataDir.remove();
    rmSync(folder, { recursive: true, force: true });
  });

  const compare = async (candidate: string) => {
    const { code, output } = await runCli(['compare', runs.first, candidate, '--json'], env());
    return { code, comparison: JSON.parse(output.slice(output.indexOf('{'))) as Comparison };
  };
  const metric = (comparison: Comparison, step: string, name: string): MetricComparison => {
    const found = comparison.steps
      .find((item) => item.step === step)
      ?.metrics.find((item) => item.metric === name);
    if (!found) throw new Error(`no ${name} of ${step}`);
    return found;
  };

  it('finds no regression in any step when both runs hit the same target', async () => {
    const { code, comparison } = await compare(runs.second);
    expect(comparison.steps.map((step) => step.step)).toEqual(['catalog', 'orders']);
    expect(comparison.regressions).toEqual([]);
    expect(code).toBe(0);
    for (const step of comparison.steps)
      for (const item of step.metrics) {
        expect(item.samplesOf).toBe('step');
        expect(item.samples[0]).toBeGreaterThanOrEqual(4);
      }
  }, 60_000);

  it('flags the slower step on its own samples and exits 1, leaving the untouched step alone', async () => {
    const { code, comparison } = await compare(runs.slower);
    expect(code).toBe(1);
    expect(comparison.regressed).toBe(true);
    expect(new Set(comparison.regressions.map((item) => item.step))).toEqual(new Set(['orders']));
    // The whole run's per-second p50 is the catalog's and did not move: only the step's own samples show it.
    const p50 = metric(comparison, 'orders', 'p50');
    expect(p50.change).toBeGreaterThan(20);
    expect(p50.change).toBeLessThan(40);
    expect(p50).toMatchObject({ verdict: 'regression', samplesOf: 'step' });
    expect(p50.pValue).toBeLessThan(0.01);
    for (const name of ['p50', 'p95', 'p99'])
      expect(metric(comparison, 'catalog', name).verdict).not.toBe('regression');
  }, 60_000);
});
