// Each step's own timeline in the report: merged exactly over the shards, one point a second for a short run,
// and at most MAX_STEP_TIMELINE_POINTS points (each adding up several seconds) for a long one.

import { describe, expect, it } from 'vitest';
import { VarintWriter } from '../../lib/loadtest/histogram.ts';
import { encodeStepLatency, StepRecorder } from '../../lib/loadtest/step-recorder.ts';
import { StepResultsMerge, stepReports } from '../../lib/loadtest/steps.ts';
import { MAX_STEP_TIMELINE_POINTS } from '../../lib/loadtest/timeline.ts';

const definitions = [
  { name: 'login', method: 'POST', path: '/login', checks: [] },
  { name: 'list', method: 'GET', path: '/list', checks: [] },
];
const runTotals = {
  requests: 0,
  ok: 0,
  failed: 0,
  statusCodes: {},
  errors: { timeout: 0, refused: 0, reset: 0, dns: 0, other: 0 },
  latencyMs: { min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 },
};

/** A shard's two steps over `seconds` seconds: a login a second at `loginMs`, two lists at 5 ms (one failing). */
function shard(seconds: number, loginMs: number) {
  const steps = [new StepRecorder(0), new StepRecorder(0)];
  for (let second = 0; second < seconds; second++) {
    steps[0]?.record(second, loginMs, 200, null, false);
    steps[1]?.record(second, 5, 200, null, false);
    steps[1]?.record(second, 5, 500, null, true);
  }
  const result = { steps: steps.map((step) => step.result()), stepLatency: encodeStepLatency(steps) };
  for (const step of steps) step.latency.destroy();
  return result;
}

describe('step timelines', () => {
  it("adds every shard's seconds of each step, one point a second", () => {
    const merge = new StepResultsMerge();
    merge.add(shard(10, 100));
    merge.add(shard(10, 300));
    const { steps } = stepReports(definitions, merge, 10, runTotals);
    const [login, list] = steps;
    expect(login?.timeline?.secondsPerPoint).toBe(1);
    expect(login?.timeline?.points).toHaveLength(10);
    expect(login?.timeline?.points[3]).toMatchObject({ second: 3, requests: 2, errors: 0 });
    // One significant digit per second: within 6.25 % above.
    expect(login?.timeline?.points[3]?.p50).toBeGreaterThanOrEqual(100);
    expect(login?.timeline?.points[3]?.p99).toBeGreaterThanOrEqual(300);
    expect(login?.timeline?.points[3]?.p99).toBeLessThanOrEqual(300 * 1.0625);
    expect(list?.timeline?.points[9]).toMatchObject({ second: 9, requests: 4, errors: 2 });
  });

  it('keeps a long run to a bounded number of points, each adding up its seconds exactly', () => {
    const merge = new StepResultsMerge();
    merge.add(shard(300, 100));
    merge.add(shard(300, 100));
    const [login] = stepReports(definitions, merge, 300, runTotals).steps;
    const timeline = login?.timeline;
    // 300 s is past 120 and 240 one- and two-second points: four seconds a point.
    expect(timeline?.secondsPerPoint).toBe(4);
    expect(timeline?.points.length).toBeLessThanOrEqual(MAX_STEP_TIMELINE_POINTS);
    expect(timeline?.points).toHaveLength(75);
    expect(timeline?.points[1]).toMatchObject({ second: 4, requests: 8 });
    expect(timeline?.points.reduce((sum, point) => sum + point.requests, 0)).toBe(600);
  });

  it('keeps no step timeline when a shard was stored before they were kept', () => {
    const merge = new StepResultsMerge();
    const older = shard(5, 100);
    // Before step timelines, the step latencies ended with the histograms.
    const histogramsOnly = [new StepRecorder(0), new StepRecorder(0)];
    merge.add(shard(5, 100));
    merge.add({ steps: older.steps, stepLatency: encodeHistogramsOnly(histogramsOnly) });
    const [login] = stepReports(definitions, merge, 5, runTotals).steps;
    expect(login?.requests).toBe(10);
    expect(login?.timeline).toBeUndefined();
  });
});

/** Step latencies as written before each step's timeline followed them. */
function encodeHistogramsOnly(steps: StepRecorder[]) {
  const writer = new VarintWriter();
  for (const step of steps) writer.writeBuckets(step.latency);
  return writer.finish();
}
