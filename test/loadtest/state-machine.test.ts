import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { aggregateStep } from '../../lib/loadtest/coordinator-steps.ts';
import { runShard } from '../../lib/loadtest/engine.ts';
import { decodeHistogram, summarize } from '../../lib/loadtest/histogram.ts';
import { renderHtmlReport } from '../../lib/loadtest/html-report.ts';
import { runSummary } from '../../lib/loadtest/launcher.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import {
  type Json,
  localDefinition,
  localTaskHandlers,
  runLocally,
} from '../../lib/loadtest/local-runner.ts';
import type { LoadTestReport } from '../../lib/loadtest/report.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { shardStep } from '../../lib/loadtest/shard-step.ts';
import type { ShardTask } from '../../lib/loadtest/step-deps.ts';
import { LoadTestStore, type RunRecord } from '../../lib/loadtest/store.ts';
import { formatSummary } from '../../lib/loadtest/text-summary.ts';
import { projectRoot } from '../../lib/local/stack.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

type State = { [key: string]: Json };

/** Every Task state of the definition, nested ones included, by name. */
function taskStates(states: Record<string, Json>): Array<[string, State]> {
  return Object.entries(states).flatMap(([name, value]) => {
    const state = value as State;
    const nested = (state.ItemProcessor as State | undefined)?.States as Record<string, Json> | undefined;
    return [
      ...(state.Type === 'Task' ? [[name, state] as [string, State]] : []),
      ...taskStates(nested ?? {}),
    ];
  });
}

describe('load test state machine definition', () => {
  const source = JSON.parse(readFileSync(join(projectRoot(), 'lib/loadtest/state-machine.asl.json'), 'utf8'));
  const tasks = taskStates(source.States);
  const functions = (
    parse(readFileSync(join(projectRoot(), 'serverless.yml'), 'utf8'), {
      logLevel: 'silent',
      merge: true,
    }) as {
      functions: Record<string, { timeout: number }>;
    }
  ).functions;

  it('gives every Task state the timeout of the function it invokes, never the 60 s local default', () => {
    expect(tasks.length).toBeGreaterThanOrEqual(8);
    for (const [name, state] of tasks) {
      const [functionName] = (state.Resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
      const timeout = functions[functionName]?.timeout;
      expect(timeout, `${name} invokes ${functionName}`).toBeGreaterThan(60);
      expect(state.TimeoutSeconds, name).toBe(timeout);
    }
  });

  it('runs a round as blocks of at most 40 shards, the same in both Maps, and keeps every output out of state', () => {
    const inline = source.States.RunShardsInline;
    const distributed = source.States.RunShardsDistributed;
    const renamed = (state: Json) => JSON.parse(JSON.stringify(state).replaceAll('Distributed', ''));
    expect(renamed(distributed.ItemProcessor.States)).toEqual(inline.ItemProcessor.States);
    expect(renamed(distributed.ItemSelector)).toEqual(inline.ItemSelector);
    for (const map of [inline, distributed]) {
      expect(map).toMatchObject({
        ItemsPath: '$.blocks',
        MaxConcurrencyPath: '$.blockCount',
        ResultPath: null,
      });
      // Tolerance is judged by Advance and Aggregate from PostgreSQL, never by the Map (the local runner ignores it).
      expect(Object.keys(map).filter((key) => key.startsWith('ToleratedFailure'))).toEqual([]);
    }
    const block = Object.values(inline.ItemProcessor.States)[0] as State;
    expect(block).toMatchObject({ Type: 'Map', ItemsPath: '$.shards', MaxConcurrency: 40, OutputPath: null });
    const shardStates = Object.values((block.ItemProcessor as State).States as Record<string, State>);
    for (const state of shardStates) expect(state.OutputPath, String(state.Type)).toBeNull();
  });

  it('runs every Task state in process when run locally', () => {
    const handlers = localTaskHandlers({
      store: {} as LoadTestStore,
      logger: createLogger({ level: 'error' }),
    });
    expect(Object.keys(handlers).sort()).toEqual(tasks.map(([name]) => name).sort());
  });
});

describe('load test state machine, run locally', () => {
  const postgres = useMigratedDatabase({ poolSize: 4 });
  let store: LoadTestStore;
  let server: Server;
  let target: string;
  let inFlight = 0;
  let peakInFlight = 0;
  const deps = () => ({ store, logger: createLogger({ level: 'error' }) });

  beforeAll(async () => {
    store = new LoadTestStore(postgres.db);
    server = createServer((request, response) => {
      inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
      // /hang never answers: a request to it ends only by its timeout or by being cut.
      if (request.url === '/hang') return;
      const delay = request.url === '/slow' ? 20 : request.url === '/steady' ? 50 : 1;
      setTimeout(() => {
        inFlight--;
        response.end(JSON.stringify({ ok: true }));
      }, delay);
    });
    // 2,000 shards connect at one start instant: a backlog that holds them all, or a dropped SYN waits 1 s to be
    // retried and the target, not the run, costs a request its round.
    target = await listenLocally(server, 4096);
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('sends exactly users × requests over four shards running in parallel', async () => {
    const run = await createLoadTest(
      { target, users: 50, requests: 20, endpoint: '/health', workers: 4 },
      store,
      DEFAULT_LIMITS,
    );
    const outcome = await runLocally(run.runId, deps()).result;
    expect(outcome).toMatchObject({ status: 'passed', requests: 1000 });
    const record = await store.getRun(run.runId);
    expect(record?.report?.totals).toEqual({ requests: 1000, ok: 1000, failed: 0 });
    const shards = await store.shardResults(run.runId);
    expect(shards.map((row) => row.result.requests)).toEqual([260, 260, 240, 240]);
  });

  it('counts a retried shard once: the retry replaces its row', async () => {
    const run = await createLoadTest({ target, users: 6, requests: 5, workers: 2 }, store, DEFAULT_LIMITS);
    await runLocally(run.runId, deps()).result;
    // Step Functions retries a shard whose Lambda failed after saving: the shard runs again.
    await shardStep({ runId: run.runId, round: 0, shard: 1 }, { ...deps(), runShard });
    const outcome = await aggregateStep(
      {
        runId: run.runId,
        round: 0,
        startsAt: Date.now(),
        blocks: [0],
        blockCount: 1,
        lastShard: 1,
        distributed: false,
        failedShards: 0,
        done: true,
      },
      deps(),
    );
    expect(outcome.requests).toBe(30);
    const record = await store.getRun(run.runId);
    expect(record?.report?.shards).toMatchObject({ planned: 2, completed: 2, retried: 1, failed: 0 });
    expect(record?.report?.totals.requests).toBe(30);
  });

  it('splits a closed-model run by time into rounds and still sends exactly every request', async () => {
    const limits = { ...DEFAULT_LIMITS, shardSeconds: 1 };
    const run = await createLoadTest(
      { target, users: 4, requests: 8, thinkTime: '250ms', workers: 2 },
      store,
      limits,
    );
    const outcome = await runLocally(run.runId, deps()).result;
    expect(outcome).toMatchObject({ status: 'passed', requests: 32 });
    const record = await store.getRun(run.runId);
    expect(record?.report?.rounds).toBeGreaterThan(1);
    expect(record?.report?.totals.requests).toBe(32);
  });

  it('ends as an error, not "running", when more shards fail than tolerated', async () => {
    const failing = Object.create(store) as LoadTestStore;
    failing.saveShardResult = async (runId, round, shard, result) => {
      if (shard === 1) throw new Error('database write failed');
      return store.saveShardResult(runId, round, shard, result);
    };
    const strict = await createLoadTest({ target, users: 4, requests: 2, workers: 2 }, store, DEFAULT_LIMITS);
    const strictOutcome = await runLocally(strict.runId, {
      store: failing,
      logger: createLogger({ level: 'error' }),
    }).result;
    expect(strictOutcome.status).toBe('error');
    const strictRun = await store.getRun(strict.runId);
    expect(strictRun?.error).toBe('1 of 2 shards failed: Error (database write failed) ×1');
    expect(strictRun?.report?.shards.failures).toEqual([
      { error: 'Error', cause: 'database write failed', shards: 1, first: { round: 0, shard: 1 } },
    ]);

    const lenient = await createLoadTest(
      { target, users: 4, requests: 2, workers: 2, toleratedFailurePercent: 50 },
      store,
      DEFAULT_LIMITS,
    );
    const lenientOutcome = await runLocally(lenient.runId, {
      store: failing,
      logger: createLogger({ level: 'error' }),
    }).result;
    expect(lenientOutcome).toMatchObject({ status: 'passed', requests: 4 });
  });

  it('records States.Timeout as the reason when a shard outlives its Task timeout', async () => {
    const definition = localDefinition();
    const runShard = Object.fromEntries(taskStates(definition.States as Record<string, Json>)).RunShard;
    if (!runShard) throw new Error('the definition has no RunShard state');
    runShard.TimeoutSeconds = 1;
    const saves: Array<Promise<void>> = [];
    const tracking = Object.create(store) as LoadTestStore;
    tracking.saveShardResult = (...args) => {
      const saved = store.saveShardResult(...args);
      saves.push(saved);
      return saved;
    };
    const run = await createLoadTest({ target, rate: 2, duration: 3 }, store, DEFAULT_LIMITS);
    const outcome = await runLocally(run.runId, { ...deps(), store: tracking }, definition).result;
    expect(outcome.status).toBe('error');
    const record = await store.getRun(run.runId);
    expect(record?.error).toBe('1 of 1 shards failed: States.Timeout ×1');
    expect(record?.report?.shards).toMatchObject({
      failed: 1,
      failures: [{ error: 'States.Timeout', cause: null, shards: 1, first: { round: 0, shard: 0 } }],
    });
    const report = record?.report as LoadTestReport;
    expect(runSummary(record as RunRecord, '/r')).toMatchObject({
      shardFailures: [{ error: 'States.Timeout', shards: 1 }],
    });
    expect(formatSummary(report, 'error')).toContain(
      'shard fails States.Timeout (1 shard, first round 0 shard 0)',
    );
    expect(renderHtmlReport(report)).toMatch(/Why shards failed.*<code>States\.Timeout<\/code>/s);
    // The abandoned shard still runs to its end; let it finish before the database goes.
    await vi.waitFor(() => expect(saves).toHaveLength(1), { timeout: 5000, interval: 100 });
    await saves[0];
  });

  it('runs an open-model test past 60 s with every shard completing', async () => {
    const run = await createLoadTest({ target, rate: 2, duration: 62 }, store, DEFAULT_LIMITS);
    const outcome = await runLocally(run.runId, deps()).result;
    expect(outcome).toMatchObject({ status: 'passed', requests: 124 });
    const report = (await store.getRun(run.runId))?.report;
    expect(report?.shards).toMatchObject({ planned: 1, completed: 1, failed: 0, failures: [] });
    expect(report?.durationSeconds).toBeGreaterThan(61);
  }, 90_000);

  it('runs 2,000 shards over three rounds, each round on one start instant, with exact totals', async () => {
    const limits = { ...DEFAULT_LIMITS, shardSeconds: 1, maxWorkers: 2000 };
    // One request per shard per round: each user's 1.5 s think outlasts the 1 s round, so its next request goes
    // to the next round. (The closed model, so that 2,000 shards in one process do not wait on timers.)
    const run = await createLoadTest(
      { target, users: 2000, requests: 3, thinkTime: '1500ms', workers: 2000 },
      store,
      limits,
    );
    expect(run.plan).toMatchObject({ mode: 'DISTRIBUTED', shards: 2000, blocks: 50 });
    const machine = new StateMachine(localDefinition() as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    // Every state's input and output as the execution passes it on, measured where the runner hands it over.
    let largestPayload = 0;
    const shardTasks: ShardTask[] = [];
    const measured = Object.fromEntries(
      Object.entries(localTaskHandlers(deps())).map(([name, handler]) => [
        name,
        async (input: unknown) => {
          if (name === 'RunShardDistributed') shardTasks.push(input as ShardTask);
          const output = await handler(input);
          largestPayload = Math.max(
            largestPayload,
            JSON.stringify(input).length,
            JSON.stringify(output).length,
          );
          return output;
        },
      ]),
    );
    const execution = machine.run(
      { runId: run.runId },
      { overrides: { taskResourceLocalHandlers: measured as never } },
    );
    const outcome = (await execution.result) as { status: string; requests: number };
    expect(outcome).toMatchObject({ status: 'passed', requests: 6000 });
    const report = (await store.getRun(run.runId))?.report;
    expect(report?.totals).toEqual({ requests: 6000, ok: 6000, failed: 0 });
    expect(report?.shards).toMatchObject({ planned: 6000, completed: 6000, failed: 0 });
    expect(report?.rounds).toBe(3);
    const rows = await store.shardResults(run.runId);
    for (const round of [0, 1, 2]) {
      const tasks = shardTasks.filter((task) => task.round === round);
      expect(tasks).toHaveLength(2000);
      // One start instant per round, planned ahead of the shards it was handed to.
      expect(new Set(tasks.map((task) => task.startsAt)).size, `round ${round}`).toBe(1);
      expect(rows.filter((row) => row.round === round).every((row) => row.result.requests === 1)).toBe(true);
    }
    // The Advance state holds 50 block numbers, not 2,000 shard numbers.
    expect(largestPayload).toBeLessThan(1024);
  }, 90_000);

  it('ends an open-model run of 50 workers within 15 s of its duration, with exact totals', async () => {
    const started = Date.now();
    const run = await createLoadTest({ target, rate: 100, duration: 10, workers: 50 }, store, DEFAULT_LIMITS);
    const outcome = await runLocally(run.runId, deps()).result;
    const elapsedSeconds = (Date.now() - started) / 1000;
    expect(outcome).toMatchObject({ status: 'passed', requests: 1000 });
    expect((await store.getRun(run.runId))?.report?.totals).toEqual({ requests: 1000, ok: 1000, failed: 0 });
    // Planning, the 0.6 s start lead, the run's 10 s and the merge: no stragglers, no wait for a timeout.
    expect(elapsedSeconds).toBeGreaterThanOrEqual(10);
    expect(elapsedSeconds).toBeLessThan(10 + 15);
  }, 30_000);

  it('judges shard failures once, after every round: under the tolerance passes, over it stops and errs', async () => {
    const failing = Object.create(store) as LoadTestStore;
    // Shards 7, 19 and 33 of 60 fail in every round: 5 %.
    failing.saveShardResult = async (runId, round, shard, result) => {
      if ([7, 19, 33].includes(shard)) throw new Error('database write failed');
      return store.saveShardResult(runId, round, shard, result);
    };
    const failingDeps = { store: failing, logger: createLogger({ level: 'error' }) };
    const limits = { ...DEFAULT_LIMITS, shardSeconds: 1 };
    const input = { target, rate: 60, duration: 2, workers: 60 };
    const lenient = await createLoadTest({ ...input, toleratedFailurePercent: 5 }, store, limits);
    expect(lenient.plan).toMatchObject({ mode: 'DISTRIBUTED', blocks: 2, rounds: 2 });
    expect(await runLocally(lenient.runId, failingDeps).result).toMatchObject({
      status: 'passed',
      requests: 114,
    });
    expect((await store.getRun(lenient.runId))?.report?.shards).toMatchObject({
      planned: 120,
      completed: 114,
      failed: 6,
      withinTolerance: true,
    });

    const strict = await createLoadTest({ ...input, toleratedFailurePercent: 4 }, store, limits);
    expect((await runLocally(strict.runId, failingDeps).result).status).toBe('error');
    const record = await store.getRun(strict.runId);
    // Over the tolerance after the first round: the second never runs.
    expect(record?.report?.rounds).toBe(1);
    expect(record?.report?.shards).toMatchObject({
      planned: 60,
      completed: 57,
      failed: 3,
      withinTolerance: false,
    });
    expect(record?.error).toBe('3 of 60 shards failed: Error (database write failed) ×3');
  }, 60_000);

  it('cuts requests still in flight at the request timeout so that a shard ends before its Lambda', async () => {
    const run = await createLoadTest(
      { target, users: 2, requests: 3, endpoint: '/hang', timeout: '1s' },
      store,
      DEFAULT_LIMITS,
    );
    await store.markStarted(run.runId);
    const started = Date.now();
    // 23 s left: 20 s are kept to save the result, so the shard sends for 2 s and cuts at 3 s.
    const summary = await shardStep(
      { runId: run.runId, round: 0, shard: 0, startsAt: started },
      { ...deps(), runShard, remainingTimeMs: () => 23_000 },
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(3000 + 1500);
    const result = await store.shardResult(run.runId, 0, 0);
    expect(summary).toMatchObject({ requests: result?.requests, failed: result?.requests });
    expect(result?.errors.timeout).toBe(result?.requests);
    expect((result?.requests ?? 0) + (result?.remaining ?? 0)).toBe(6);
    await store.finish(run.runId, 'error', null);
  });

  it('sends the requests of a shard that started late on the round timeline, measured from when they fell due', async () => {
    const run = await createLoadTest({ target, rate: 10, duration: 2 }, store, DEFAULT_LIMITS);
    await store.markStarted(run.runId);
    const began = Date.now();
    // The round started 3 s ago: every one of its 20 requests is overdue.
    await shardStep(
      { runId: run.runId, round: 0, shard: 0, startsAt: began - 3000 },
      { ...deps(), runShard },
    );
    expect(Date.now() - began).toBeLessThan(1500);
    const stored = (await store.shardResults(run.runId)).find((row) => row.round === 0 && row.shard === 0);
    expect(stored?.result.requests).toBe(20);
    const latency = summarize(decodeHistogram(stored?.result.latency ?? ''));
    // The last request fell due 1.9 s into the round, 1.1 s before the shard started.
    expect(latency.min).toBeGreaterThanOrEqual(1000);
    await store.finish(run.runId, 'passed', null);
  });

  it('fails a run whose thresholds fail and says which', async () => {
    const run = await createLoadTest(
      { target, users: 2, requests: 5, endpoint: '/slow', thresholds: ['p50<5', 'errors<1%'] },
      store,
      DEFAULT_LIMITS,
    );
    const outcome = await runLocally(run.runId, deps()).result;
    expect(outcome.status).toBe('failed');
    const report = (await store.getRun(run.runId))?.report;
    expect(report?.thresholds.map((item) => [item.expr, item.passed])).toEqual([
      ['p50<5ms', false],
      ['errors<1%', true],
    ]);
    expect(report?.passed).toBe(false);
  });

  it('lists a target as under load only while its run shows signs of life', async () => {
    const run = await createLoadTest({ target, users: 1, requests: 1 }, store, DEFAULT_LIMITS);
    const inTwoMinutes = () => new Date(Date.now() + 121_000);
    expect(await store.activeTargets()).toContain(target);
    expect(await store.activeTargets(inTwoMinutes())).not.toContain(target);
    await store.markStarted(run.runId);
    await postgres.database.admin(
      `UPDATE loadtest_runs SET created_at = now() - interval '100 seconds', started_at = now() - interval '100 seconds', heartbeat_at = NULL WHERE id = $1`,
      [run.runId],
    );
    expect(await store.activeTargets(new Date(Date.now() + 30_000))).not.toContain(target);
    // A shard's heartbeat keeps it listed, for two minutes.
    expect(await store.isAbortRequested(run.runId, true)).toBe(false);
    expect(await store.activeTargets()).toContain(target);
    expect(await store.activeTargets(inTwoMinutes())).not.toContain(target);
    await store.finish(run.runId, 'aborted', null);
    expect(await store.activeTargets()).not.toContain(target);
  });
});
