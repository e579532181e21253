import { describe, expect, it } from 'vitest';
import { PRICES, priceRun } from '../../lib/loadtest/pricing.ts';

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

  it('shows a tenth of a cent for a run that costs anything, and zero for nothing', () => {
    const tiny = priceRun(
      { workerGbSeconds: 1, lambdaRequests: 3, stateTransitions: 7, childExecutions: 0 },
      'arm64',
    );
    expect(tiny.total).toBe(0.001);
    expect(tiny.childExecutions).toBe(0);
  });

  it('names its source and date', () => {
    expect(PRICES.region).toBe('us-east-1');
    expect(PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
