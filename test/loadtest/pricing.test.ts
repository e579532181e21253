import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { formatUsd, planLoadTest } from '../../lib/loadtest/plan.ts';
import { type LambdaArchitecture, PRICES, priceRun } from '../../lib/loadtest/pricing.ts';

describe('priceRun', () => {
  it('prices each part at the dated us-east-1 table and adds them up', () => {
    const cost = priceRun(
      {
        workerGbSeconds: 1_000_000,
        lambdaRequests: 1_000_000,
        stateTransitions: 40_000,
        childExecutions: 40_000,
      },
      'arm64',
    );
    expect(cost).toEqual({
      lambdaCompute: 13.333,
      lambdaRequests: 0.2,
      stateTransitions: 1,
      childExecutions: 1,
      total: 15.533,
      architecture: 'arm64',
      region: 'us-east-1',
      pricesAsOf: PRICES.asOf,
    });
  });

  it('charges x86 workers a quarter more per GB-second than arm64', () => {
    const usage = { workerGbSeconds: 600_000, lambdaRequests: 0, stateTransitions: 0, childExecutions: 0 };
    expect(priceRun(usage, 'x86_64').lambdaCompute).toBe(10);
    expect(priceRun(usage, 'arm64').lambdaCompute).toBe(8);
  });

  it('keeps a tiny run to the micro-dollar and shows it as under a tenth of a cent, never rounded up', () => {
    const tiny = priceRun(
      { workerGbSeconds: 1, lambdaRequests: 3, stateTransitions: 7, childExecutions: 0 },
      'arm64',
    );
    // 1 GB-s $0.0000133334, 3 invocations $0.0000006, 7 transitions $0.000175.
    expect(tiny.total).toBe(0.000189);
    expect(tiny.lambdaRequests).toBe(0.000001);
    expect(tiny.childExecutions).toBe(0);
    expect(formatUsd(tiny.total)).toBe('under $0.001');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(18.8874)).toBe('$18.887');
  });

  it('names its source and date', () => {
    expect(PRICES.region).toBe('us-east-1');
    expect(PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe('the cost of a 1,000,000 req/s hour in the docs', () => {
  it('is the figure the planner and the price table give, for both architectures', () => {
    const estimateFor = (workerArchitecture: LambdaArchitecture) => {
      // The two caps the docs say to raise; the dollar cap stays at its default.
      const limits = {
        ...DEFAULT_LIMITS,
        maxRequests: 3_600_000_000,
        maxGbSeconds: 1_407_600,
        workerArchitecture,
      };
      const options = parseLoadTestInput(
        { target: 'http://localhost', rate: 1_000_000, duration: '1h' },
        limits,
      );
      return planLoadTest(options, limits).estimate;
    };
    const arm = estimateFor('arm64');
    const x86 = estimateFor('x86_64');
    const count = (value: number) => value.toLocaleString('en-US');
    const row = (label: string, pick: (estimate: typeof arm) => string) =>
      `| ${label} | ${pick(arm)} | ${pick(x86)} |`;
    const table = [
      '| 1,000,000 req/s for 1 h | arm64 | x86_64 |',
      '|---|---|---|',
      row('workers × rounds of 600 s', (estimate) => `${count(estimate.workers)} × ${estimate.rounds}`),
      row('worker GB-seconds', (estimate) => count(estimate.lambdaGbSeconds)),
      row('Lambda compute', (estimate) => `${formatUsd(estimate.usd.lambdaCompute)}`),
      row(
        `Lambda requests (${count(arm.lambdaRequests)} invocations)`,
        (estimate) => `${formatUsd(estimate.usd.lambdaRequests)}`,
      ),
      row(
        `state transitions (${count(arm.stateTransitions)})`,
        (estimate) => `${formatUsd(estimate.usd.stateTransitions)}`,
      ),
      row(
        `Map child executions (${count(arm.childExecutions)})`,
        (estimate) => `${formatUsd(estimate.usd.childExecutions)}`,
      ),
      row('total', (estimate) => `${formatUsd(estimate.usd.total)}`),
    ].join('\n');
    const docs = readFileSync(new URL('../../docs/production/LOAD_TESTING.md', import.meta.url), 'utf8');
    expect(docs).toContain(table);
    expect(arm.usd.total).toBeLessThanOrEqual(DEFAULT_LIMITS.maxUsd);
    expect(x86.usd.total).toBeLessThanOrEqual(DEFAULT_LIMITS.maxUsd);
  });
});
