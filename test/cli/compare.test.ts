// `loadwatch compare` and `loadtest --baseline` on real local runs against one local target: the same target
// twice is no regression; the target made 30 % slower is one, found and exited 1.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { runCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { createTestDatabase, type TestDatabase, testPool } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';

/** Milliseconds the target takes to answer, and the same made 30 % slower. */
const DELAY_MS = 200;
const SLOWER_MS = 260;
/**
 * Closed model: each request leaves when the previous one is answered and is timed from then, so a busy test
 * machine delays requests without adding the delay to their latency; about 7 seconds of samples a run.
 */
const RUN = ['--users', '5', '--requests', '35'];

describe('loadwatch compare', () => {
  const dataDir = scratchDataDir('compare-cli');
  const scratch = mkdtempSync(join(tmpdir(), 'loadwatch-compare-'));
  let database: TestDatabase;
  let target: FaultTarget;
  const env = () => ({ DATABASE_URL: database.url, LOADWATCH_DATA_DIR: dataDir.path });
  const runs: Record<'first' | 'second' | 'slower', string> = { first: '', second: '', slower: '' };
  let slowerRun: { code: number | null; output: string };

  /** A run against the target; its id read from the line the command prints when it starts. */
  async function loadTest(extra: string[] = []) {
    const result = await runCli(['loadtest', '--target', target.url, ...RUN, ...extra], env(), 120_000);
    const id = result.output.match(/load test ([0-9a-f-]{36}):/)?.[1];
    if (!id) throw new Error(`no run id in:\n${result.output}`);
    return { ...result, id };
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    target = await startFaultTarget();
    await target.set('slow', DELAY_MS);
    runs.first = (await loadTest()).id;
    runs.second = (await loadTest()).id;
    await target.set('slow', SLOWER_MS);
    const slower = await loadTest(['--baseline', runs.first]);
    runs.slower = slower.id;
    slowerRun = slower;
  }, 400_000);
  afterAll(async () => {
    await target?.close();
    await database?.drop();
    dataDir.remove();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('finds no regression and exits 0 when both runs hit the same target', async () => {
    const { code, output } = await runCli(['compare', runs.first, runs.second], env());
    expect(output).toContain(`baseline ${runs.first} → candidate ${runs.second}: no regression`);
    expect(output).toMatch(/GET \/health +p50 +2\d\d(\.\d+)? ms +2\d\d(\.\d+)? ms/);
    expect(output).not.toContain('REGRESSION');
    expect(code).toBe(0);
  }, 60_000);

  it('finds the 30 % slowdown a significant regression and exits 1', async () => {
    const junit = join(scratch, 'compare.xml');
    const { code, output } = await runCli(
      ['compare', runs.first, runs.slower, '--json', '--junit', junit],
      env(),
    );
    expect(code).toBe(1);
    const comparison = JSON.parse(output.slice(output.indexOf('{')));
    expect(comparison.regressed).toBe(true);
    const p50 = comparison.steps[0].metrics.find((item: { metric: string }) => item.metric === 'p50');
    expect(p50.change).toBeGreaterThan(20);
    expect(p50.change).toBeLessThan(40);
    expect(p50.pValue).toBeLessThan(0.01);
    expect(p50.verdict).toBe('regression');
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain('<testcase classname="loadwatch.compare" name="GET /health p50"><failure');
  }, 60_000);

  it('gates a run with --baseline: the slower run printed the regression and exited 1', () => {
    expect(slowerRun.output).toContain(`baseline ${runs.first} → candidate ${runs.slower}: REGRESSION`);
    expect(slowerRun.output).toMatch(/GET \/health +p50 .* REGRESSION/);
    expect(slowerRun.code).toBe(1);
  });

  it('reads a report file as a baseline and compares with the newest passed run as "latest"', async () => {
    const db = testPool(database.target);
    let file: string;
    try {
      const record = await new LoadTestStore(db).getRun(runs.second);
      file = join(scratch, 'second.json');
      writeFileSync(file, JSON.stringify(record?.report));
    } finally {
      await db.close();
    }
    const markdown = await runCli(['compare', file, runs.slower, '--markdown'], env());
    expect(markdown.output).toContain('### ❌ Load test regression');
    expect(markdown.code).toBe(1);
    // The slower run passed its thresholds, so it is the latest passed baseline: back at full speed, no regression.
    await target.set('slow', DELAY_MS);
    const gated = await loadTest(['--baseline', 'latest']);
    expect(gated.output).toContain(`baseline ${runs.slower} → candidate ${gated.id}: no regression`);
    expect(gated.code).toBe(0);
  }, 180_000);

  it('exits 2 naming the problem when a run, a file or a tolerance is wrong', async () => {
    const missing = await runCli(['compare', '00000000-0000-4000-8000-000000000000', runs.first], env());
    expect(missing.output).toContain('no load test 00000000-0000-4000-8000-000000000000 in this database');
    expect(missing.code).toBe(2);
    const notJson = join(scratch, 'not.json');
    writeFileSync(notJson, '{"runId": 1}');
    const bad = await runCli(['compare', notJson, runs.first, '--max-regression', 'p95=10'], env());
    expect(bad.output).toContain(
      '--max-regression: p95 takes a percentage of the baseline, as p95=10% (got "p95=10")',
    );
    expect(bad.code).toBe(2);
    const unreadable = await runCli(['compare', notJson, runs.first], env());
    expect(unreadable.output).toContain(`${notJson}: not a load-test report (no target, totals, latencyMs`);
    expect(unreadable.code).toBe(2);
    const baseline = await runCli(['loadtest', '--target', target.url, ...RUN, '--baseline', 'nope'], env());
    expect(baseline.output).toContain('--baseline: "nope" is neither a report file, a run id nor "latest"');
    expect(baseline.code).toBe(2);
    expect(await runCli(['compare', runs.first], env())).toMatchObject({ code: 2 });
  }, 120_000);
});
