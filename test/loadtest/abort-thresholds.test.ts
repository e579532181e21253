import { describe, expect, it } from 'vitest';
import { evaluateThresholds, parseAbortSuffix, parseThreshold } from '../../lib/loadtest/thresholds.ts';

describe('parseThreshold with an abort suffix', () => {
  it('marks a threshold to abort, with no grace, and keeps the suffix in its canonical form', () => {
    expect(parseThreshold('p99<800:abort')).toEqual({
      expression: 'p99<800ms:abort',
      metric: 'p99',
      operator: '<',
      value: 800,
      tags: {},
      abort: { graceSeconds: 0 },
    });
  });

  it('reads the grace in seconds, minutes or milliseconds, a bare number being seconds', () => {
    expect(parseThreshold('p99<800:abort:30s')).toMatchObject({
      expression: 'p99<800ms:abort:30s',
      abort: { graceSeconds: 30 },
    });
    expect(parseThreshold('errors < 5% : abort : 2m').abort).toEqual({ graceSeconds: 120 });
    expect(parseThreshold('errors<5%:abort:45').abort).toEqual({ graceSeconds: 45 });
    expect(parseThreshold('p95<1s:ABORT:1500ms')).toMatchObject({
      expression: 'p95<1s:abort:1.5s',
      value: 1000,
    });
  });

  it('leaves a threshold without a suffix as it was', () => {
    expect(parseThreshold('p95<300')).toEqual({
      expression: 'p95<300ms',
      metric: 'p95',
      operator: '<',
      value: 300,
      tags: {},
    });
  });

  it('names what is wrong after the colon', () => {
    expect(() => parseThreshold('p99<800:stop')).toThrow(
      '"p99<800:stop": after the condition only ":abort" or ":abort:<grace>" may follow (e.g. "p99<800:abort:30s")',
    );
    expect(() => parseThreshold('p99<800:abort:soon')).toThrow(/only ":abort" or ":abort:<grace>"/);
    expect(() => parseThreshold('p99<800:abort:30s:x')).toThrow(/only ":abort" or ":abort:<grace>"/);
  });

  it('still names a bad condition before the suffix', () => {
    expect(() => parseThreshold('p98<800:abort')).toThrow(/"p98" is not a metric/);
    expect(() => parseThreshold('p99<5%:abort')).toThrow(/a latency takes ms or s/);
  });

  it('refuses an abort on a request count that only grows', () => {
    expect(() => parseThreshold('requests>=1000:abort')).toThrow(
      '"requests>=1000:abort": requests grow until the run ends, so only requests<N or requests<=N can abort it',
    );
    expect(parseThreshold('requests<50000:abort').abort).toEqual({ graceSeconds: 0 });
  });

  it('evaluates an abort threshold at the end like any other', () => {
    const latencyMs = { min: 1, mean: 5, p50: 4, p90: 8, p95: 9, p99: 900, p999: 950, max: 990 };
    expect(
      evaluateThresholds(['p99<800:abort:30s', 'p95<300'], {
        latencyMs,
        errorPercent: 0,
        rps: 10,
        requests: 100,
      }),
    ).toEqual([
      { expr: 'p99<800ms:abort:30s', actual: 900, passed: false },
      { expr: 'p95<300ms', actual: 9, passed: true },
    ]);
  });
});

describe('parseAbortSuffix', () => {
  it('splits only at a colon outside braces, so tags keep theirs', () => {
    expect(parseAbortSuffix('p95{step:login}<300:abort:10s')).toEqual({
      condition: 'p95{step:login}<300',
      abort: { graceSeconds: 10 },
    });
    expect(parseAbortSuffix('p95{step:login}<300')).toEqual({
      condition: 'p95{step:login}<300',
      abort: null,
    });
  });
});
