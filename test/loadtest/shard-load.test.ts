import { describe, expect, it } from 'vitest';
import type { ShardLoad } from '../../lib/loadtest/engine.ts';
import { DEFAULT_LIMITS, type LoadTestLimits } from '../../lib/loadtest/limits.ts';
import { type LoadTestOptions, parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { type LoadTestPlan, planLoadTest, shardLoad } from '../../lib/loadtest/plan.ts';
import { expectedRequests } from '../../lib/loadtest/request-count.ts';
import { RateSchedule } from '../../lib/loadtest/schedule.ts';

const target = 'http://localhost:3000';
/** Short rounds, so that a run of a minute or two has several. */
const LIMITS: LoadTestLimits = { ...DEFAULT_LIMITS, shardSeconds: 20 };

function planned(input: Record<string, unknown>): { options: LoadTestOptions; plan: LoadTestPlan } {
  const options = parseLoadTestInput({ target, ...input }, LIMITS);
  return { options, plan: planLoadTest(options, LIMITS) };
}

function closedLoad(load: ShardLoad): Extract<ShardLoad, { model: 'closed' }> {
  if (load.model !== 'closed') throw new Error('closed model expected');
  return load;
}

function openLoad(load: ShardLoad): Extract<ShardLoad, { model: 'open' }> {
  if (load.model !== 'open') throw new Error('open model expected');
  return load;
}

function stagesOf(options: LoadTestOptions) {
  if (options.model !== 'open') throw new Error('open model expected');
  return options.stages;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
const shardsOf = (plan: LoadTestPlan) => Array.from({ length: plan.shards }, (_, shard) => shard);

/** The request indices a shard sends in its window: those ≡ shardIndex (mod shardCount), as ShardLoad documents. */
function indicesSent(load: Extract<ShardLoad, { model: 'open' }>): number[] {
  const schedule = new RateSchedule(load.stages);
  const indices: number[] = [];
  for (
    let index = schedule.firstIndexAt(load.fromSeconds);
    index < schedule.firstIndexAt(load.toSeconds);
    index++
  )
    if (index % load.shardCount === load.shardIndex) indices.push(index);
  return indices;
}

describe('shardLoad in the closed model', () => {
  it('gives every user to exactly one shard, none more than one apart, when users do not divide evenly', () => {
    const { options, plan } = planned({ users: 103, requests: 7, workers: 4, thinkTime: '50ms' });
    const users = shardsOf(plan).map(
      (shard) => closedLoad(shardLoad(options, plan, 0, shard)).requestsPerUser.length,
    );
    expect(users).toEqual([26, 26, 26, 25]);
    expect(sum(users)).toBe(103);
  });

  it('has every user send the requests asked for, with the think time, when the round is the first', () => {
    const { options, plan } = planned({ users: 10, requests: 7, workers: 3, thinkTime: '50ms' });
    const loads = shardsOf(plan).map((shard) => closedLoad(shardLoad(options, plan, 0, shard)));
    for (const load of loads) {
      expect(load.thinkTimeMs).toBe(50);
      expect(new Set(load.requestsPerUser)).toEqual(new Set([7]));
    }
    expect(sum(loads.map((load) => sum(load.requestsPerUser)))).toBe(expectedRequests(options));
  });

  it('splits what the shard had left over the same users, none more than one apart, when the round is a later one', () => {
    const { options, plan } = planned({ users: 10, requests: 7, workers: 3 });
    const load = closedLoad(shardLoad(options, plan, 1, 0, 9));
    expect(load.requestsPerUser).toEqual([3, 2, 2, 2]);
    expect(closedLoad(shardLoad(options, plan, 2, 2, 0)).requestsPerUser).toEqual([0, 0, 0]);
  });

  it('sends nothing more when a later round has no remainder recorded for the shard', () => {
    const { options, plan } = planned({ users: 10, requests: 7, workers: 3 });
    expect(closedLoad(shardLoad(options, plan, 1, 1)).requestsPerUser).toEqual([0, 0, 0]);
  });

  it('sends exactly the requests asked for across rounds when each round runs out of time part way', () => {
    const { options, plan } = planned({ users: 23, requests: 11, workers: 4 });
    // A round in which each user manages only 1 to 3 requests: what is left carries on in the next, unevenly.
    const managed = (user: number) => 1 + (user % 3);
    const remaining = new Map<number, number>();
    let sent = 0;
    for (
      let round = 0;
      round < plan.maxRounds && (round === 0 || sum([...remaining.values()]) > 0);
      round++
    ) {
      for (const shard of shardsOf(plan)) {
        const load = closedLoad(shardLoad(options, plan, round, shard, remaining.get(shard)));
        const sentNow = sum(load.requestsPerUser.map((requests, user) => Math.min(requests, managed(user))));
        sent += sentNow;
        remaining.set(shard, sum(load.requestsPerUser) - sentNow);
      }
    }
    expect(sent).toBe(23 * 11);
    expect(sum([...remaining.values()])).toBe(0);
  });
});

describe('shardLoad in the open model', () => {
  it('gives every shard the whole timeline, its own index and the shard count, when a round is planned', () => {
    const { options, plan } = planned({ rate: 30, duration: 50, workers: 3 });
    for (const shard of shardsOf(plan)) {
      const load = openLoad(shardLoad(options, plan, 1, shard));
      expect(load).toMatchObject({ stages: stagesOf(options), shardIndex: shard, shardCount: 3 });
    }
  });

  it('cuts the timeline into consecutive windows of the shard length, the last one ending with the run', () => {
    const { options, plan } = planned({ rate: 30, duration: 50, workers: 3 });
    expect(plan.rounds).toBe(3);
    const windows = [0, 1, 2].map((round) => {
      const { fromSeconds, toSeconds } = openLoad(shardLoad(options, plan, round, 0));
      return [fromSeconds, toSeconds];
    });
    expect(windows).toEqual([
      [0, 20],
      [20, 40],
      [40, 50],
    ]);
  });

  it('has the shards together send every request of the schedule exactly once when rates ramp over rounds', () => {
    const { options, plan } = planned({ rate: 40, duration: 70, rampUp: '15s:90,20s:10', workers: 7 });
    const total = expectedRequests(options);
    const rounds = plan.rounds ?? 0;
    expect(rounds).toBeGreaterThan(1);
    const sent: number[] = [];
    for (let round = 0; round < rounds; round++)
      for (const shard of shardsOf(plan))
        sent.push(...indicesSent(openLoad(shardLoad(options, plan, round, shard))));
    expect(stagesOf(options).length).toBeGreaterThan(1);
    expect(sent).toHaveLength(total);
    // Every index of the schedule, 0 to total - 1, once: no request dropped, none sent twice.
    const missingOrRepeated = [...sent]
      .sort((a, b) => a - b)
      .findIndex((index, position) => index !== position);
    expect(missingOrRepeated).toBe(-1);
  });

  it('interleaves the shards request by request, none sending more than one more than another, in a round', () => {
    const { options, plan } = planned({ rate: 50, duration: 20, workers: 6 });
    const counts = shardsOf(plan).map(
      (shard) => indicesSent(openLoad(shardLoad(options, plan, 0, shard))).length,
    );
    expect(sum(counts)).toBe(1000);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });
});
