import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type LoadTestLimits } from '../../lib/loadtest/limits.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { planLoadTest, shardLoad } from '../../lib/loadtest/plan.ts';
import { MAX_CONNECTIONS_PER_WORKER, workerLoadFor } from '../../lib/loadtest/worker-capacity.ts';

const target = 'http://localhost:3000';

/** Caps out of the way, so that only the sizing decides. */
const SCALE_LIMITS: LoadTestLimits = {
  ...DEFAULT_LIMITS,
  maxRate: 10_000_000,
  maxWorkers: 10_000,
  maxUsers: 1_000_000,
  maxRequests: 1_000_000_000,
  maxGbSeconds: 10_000_000,
};

function plan(input: Record<string, unknown>, limits: LoadTestLimits = SCALE_LIMITS) {
  const options = parseLoadTestInput({ target, ...input }, limits);
  return { options, plan: planLoadTest(options, limits) };
}

describe('planLoadTest worker sizing', () => {
  it('plans 1,000,000 req/s on at most 400 workers', () => {
    const { plan: million } = plan({ rate: 1_000_000, duration: 10 });
    expect(million.shards).toBeLessThanOrEqual(400);
    expect(million.shards).toBe(Math.ceil(1_000_000 / DEFAULT_LIMITS.ratePerWorker));
  });

  it('plans 10,000,000 req/s within the cap of 10,000 workers', () => {
    const { plan: tenMillion } = plan({ rate: 10_000_000, duration: 5 });
    expect(tenMillion.shards).toBeLessThanOrEqual(10_000);
    expect(tenMillion.mode).toBe('DISTRIBUTED');
  });

  it('sizes by the peak of a ramp, not by the steady rate', () => {
    const { plan: ramped } = plan({ rate: 5000, duration: 60, rampUp: '10s:20000,10s:5000' });
    expect(ramped.shards).toBe(Math.ceil(20_000 / DEFAULT_LIMITS.ratePerWorker));
  });

  it('takes the per-worker figures from the limits, as LOADTEST_RATE_PER_WORKER and LOADTEST_USERS_PER_WORKER set them', () => {
    const limits = { ...SCALE_LIMITS, ratePerWorker: 1000, usersPerWorker: 50 };
    expect(plan({ rate: 10_001, duration: 10 }, limits).plan.shards).toBe(11);
    expect(plan({ users: 101, requests: 1 }, limits).plan.shards).toBe(3);
  });

  it('gives a smaller worker less load', () => {
    const engine = { cpuMicrosPerRequest: 100, fixedCpuShare: 0 };
    const sized = (workerMemoryMb: number) => ({
      ...SCALE_LIMITS,
      workerMemoryMb,
      ...workerLoadFor(workerMemoryMb, engine),
    });
    const onSmall = plan({ rate: 100_000, duration: 10 }, sized(512)).plan;
    const onLarge = plan({ rate: 100_000, duration: 10 }, sized(1024)).plan;
    expect(onSmall.shards).toBeGreaterThan(onLarge.shards);
  });

  it('refuses a closed-model run that would put more users on a worker than it may hold connections', () => {
    const options = parseLoadTestInput({ target, users: 5000, requests: 1, workers: 4 }, SCALE_LIMITS);
    expect(() => planLoadTest(options, SCALE_LIMITS)).toThrow(
      `workers: 4 would give a worker 1250 users, each with a connection of its own; at most ${MAX_CONNECTIONS_PER_WORKER} fit well under Lambda's 1024 file descriptors, so give at least 10 workers`,
    );
  });
});

describe('shardLoad connections', () => {
  it('holds a worker at its planned rate to the connection budget, and gives a small one at least 8', () => {
    const { options, plan: planned } = plan({ rate: 1_000_000, duration: 10 });
    const load = shardLoad(options, planned, 0, 0);
    if (load.model !== 'open') throw new Error('open model expected');
    expect(load.maxConnections).toBeLessThanOrEqual(MAX_CONNECTIONS_PER_WORKER);
    expect(load.maxConnections).toBeGreaterThanOrEqual(500);
    const tiny = plan({ rate: 5, duration: 10 });
    const tinyLoad = shardLoad(tiny.options, tiny.plan, 0, 0);
    expect(tinyLoad.model === 'open' && tinyLoad.maxConnections).toBe(8);
  });
});

describe('planLoadTest estimate in dollars', () => {
  it('counts invocations, state transitions and child executions of a distributed run, and prices them', () => {
    // 100 workers, 2 rounds of 600 s: 200 shard runs in 6 blocks, one child execution each.
    const { plan: planned } = plan({ rate: 100_000, duration: '20m', workers: 100 });
    expect(planned.estimate).toMatchObject({
      workers: 100,
      rounds: 2,
      lambdaGbSeconds: 120_000,
      lambdaRequests: 200 + 2 + 2,
      // Plan and Aggregate; four parent states a round; three blocks of at most 40 shards a round; each shard.
      stateTransitions: 2 + 4 * 2 + 3 * 2 + 200,
      // One child execution per block, not per shard.
      childExecutions: 3 * 2,
    });
    expect(planned.estimate.usd).toMatchObject({
      lambdaCompute: 1.6,
      lambdaRequests: 0.000041,
      stateTransitions: 0.005,
      childExecutions: 0.00015,
      total: 1.606,
      architecture: 'arm64',
    });
  });

  it('starts no child executions for an inline Map and prices x86 workers at their own rate', () => {
    const limits = { ...SCALE_LIMITS, workerArchitecture: 'x86_64' as const };
    const { plan: inline } = plan({ rate: 100, duration: 60, workers: 4 }, limits);
    expect(inline.estimate).toMatchObject({ childExecutions: 0, rounds: 1, lambdaGbSeconds: 240 });
    expect(inline.estimate.usd).toMatchObject({ lambdaCompute: 0.004, architecture: 'x86_64' });
  });

  it('refuses a run whose estimate is over LOADTEST_MAX_USD, naming the figure and the variable', () => {
    const limits = { ...SCALE_LIMITS, maxUsd: 1 };
    const options = parseLoadTestInput({ target, rate: 100_000, duration: '20m', workers: 100 }, limits);
    expect(() => planLoadTest(options, limits)).toThrow(
      /^estimate: about \$1\.606 on AWS \(us-east-1 prices of \d{4}-\d{2}-\d{2}\): Lambda 120000 GB-s \$1\.60 \(arm64\), 204 invocations under \$0\.001, 216 state transitions \$0\.005, 6 Map child executions under \$0\.001; over LOADTEST_MAX_USD=1$/,
    );
    expect(planLoadTest(options, { ...limits, maxUsd: 2 }).estimate.usd.total).toBe(1.606);
  });
});

describe('planLoadTest under the default caps', () => {
  it('leaves the GB-second cap to refuse a 1,000,000 req/s hour that the rate and worker caps allow', () => {
    const limits = { ...DEFAULT_LIMITS, maxRequests: 3_600_000_000 };
    const options = parseLoadTestInput({ target, rate: 1_000_000, duration: '1h' }, limits);
    expect(options.workers).toBe(391);
    expect(() => planLoadTest(options, limits)).toThrow(
      'estimate: about 1407600 Lambda GB-seconds (391 workers × ~3600s × 1024 MB) is over LOADTEST_MAX_GB_SECONDS=50000',
    );
  });
});
