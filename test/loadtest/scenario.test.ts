import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runShard, type ShardResult, type ShardWork } from '../../lib/loadtest/engine.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { formatSummary } from '../../lib/loadtest/text-summary.ts';
import { createDemoShop, type DemoShop, PRODUCTS } from '../../lib/local/demo-shop.ts';
import { parseScenario } from '../../lib/scenario/schema.ts';
import { listenLocally } from '../support/listen.ts';
import { reportOf } from '../support/report.ts';
import { useShopRuns } from '../support/scenario-runs.ts';
import { loginScenario } from '../support/shop-scenarios.ts';

describe('scenarios on the engine', () => {
  let shop: DemoShop;
  let target: string;

  beforeAll(async () => {
    shop = createDemoShop({ record: true });
    target = await listenLocally(shop.server);
  });
  beforeEach(() => shop.reset());
  afterAll(() => {
    shop.server.closeAllConnections();
    shop.server.close();
  });

  const work = (overrides: Partial<ShardWork>): ShardWork => ({
    target,
    endpoints: [],
    timeoutMs: 2000,
    runStartedAt: Date.now(),
    deadline: Date.now() + 30_000,
    load: { model: 'closed', requestsPerUser: [5, 5], thinkTimeMs: 0 },
    ...overrides,
  });

  it('reports each endpoint of the shorthand as its own step, so the failing one is named', async () => {
    const input = { target, endpoints: ['/ping', '/orders-down'], users: 2, requests: 50, workers: 2 };
    const endpoints = [
      { path: '/ping', method: 'GET' as const, headers: {}, weight: 1 },
      { path: '/orders-down', method: 'GET' as const, headers: {}, weight: 1 },
    ];
    const shards = await Promise.all(
      [0, 1].map(() =>
        runShard(work({ endpoints, load: { model: 'closed', requestsPerUser: [50], thinkTimeMs: 0 } })),
      ),
    );
    const report = reportOf(input, shards);
    const [ping, orders] = report.steps;
    expect(report.steps.map((step) => step.name)).toEqual(['GET /ping', 'GET /orders-down']);
    expect((ping?.requests ?? 0) + (orders?.requests ?? 0)).toBe(100);
    expect(ping).toMatchObject({ failed: 0, httpFailures: 0, errorPercent: 0 });
    expect(ping?.ok).toBe(ping?.requests);
    expect(orders).toMatchObject({ ok: 0, errorPercent: 100, statusCodes: { '503': orders?.requests } });
    expect(orders?.httpFailures).toBe(orders?.requests);
    expect(report.totals.failed).toBe(orders?.requests);
    expect(report.checks).toEqual([]);
    expect(report.iterations).toBeUndefined();
    // The summary still prints.
    expect(formatSummary(report, 'failed')).toContain('GET /orders-down');
  });

  it('reports the run itself as the one step of a single-endpoint run stored before per-step figures', async () => {
    const endpoints = [{ path: '/orders-down', method: 'GET' as const, headers: {}, weight: 1 }];
    const {
      steps: _steps,
      stepLatency: _latency,
      ...older
    } = await runShard(
      work({ endpoints, load: { model: 'closed', requestsPerUser: [4, 4], thinkTimeMs: 0 } }),
    );
    const report = reportOf({ target, endpoint: '/orders-down', users: 2, requests: 4 }, [older]);
    expect(report.steps).toEqual([
      expect.objectContaining({
        name: 'GET /orders-down',
        requests: 8,
        ok: 0,
        failed: 8,
        httpFailures: 8,
        statusCodes: { '503': 8 },
        latencyMs: report.latencyMs,
      }),
    ]);
  });

  it('masks a credential in the query of a step path in the report, as it does for endpoints', async () => {
    const document = { flows: [{ steps: [{ path: '/ping?api_key=s3cret&page=2' }] }] };
    const result = await runShard(
      work({
        scenario: parseScenario(document),
        load: { model: 'closed', requestsPerUser: [2], thinkTimeMs: 0 },
      }),
    );
    const report = reportOf({ target, scenario: document, users: 1, requests: 2 }, [result]);
    expect(report.steps.map(({ name, path, ok }) => ({ name, path, ok }))).toEqual([
      { name: 'GET /ping?api_key=***&page=2', path: '/ping?api_key=***&page=2', ok: 2 },
    ]);
  });

  it('logs in, captures the token and sends it to the API that requires it', async () => {
    const scenario = parseScenario(loginScenario());
    const result = await runShard(
      work({ scenario, load: { model: 'closed', requestsPerUser: [4, 4, 4], thinkTimeMs: 0, firstUser: 6 } }),
    );
    // On the wire: twelve logins by users 7, 8 and 9, each followed by an order carrying the token it issued.
    expect(shop.seen.logins.map((login) => login.user).sort()).toEqual(
      ['user-7', 'user-8', 'user-9'].flatMap((user) => [user, user, user, user]),
    );
    expect(shop.seen.orders).toHaveLength(12);
    expect(shop.seen.orders.every((order) => order.status === 200)).toBe(true);
    expect(new Set(shop.seen.orders.map((order) => order.authorization)).size).toBe(12);
    expect(result.iterations).toEqual({ started: 12, completed: 12, failed: 0, failedBecause: {} });
    const report = reportOf({ target, scenario: loginScenario(), users: 3, requests: 4 }, [result]);
    expect(report.steps.map(({ name, requests, ok, failed }) => ({ name, requests, ok, failed }))).toEqual([
      { name: 'login', requests: 12, ok: 12, failed: 0 },
      { name: 'orders', requests: 12, ok: 12, failed: 0 },
    ]);
    expect(report.checks).toEqual([
      { step: 'login', name: 'status 200', passed: 12, failed: 0 },
      { step: 'orders', name: 'status 200', passed: 12, failed: 0 },
      { step: 'orders', name: '$.orders[0].id == 7', passed: 12, failed: 0 },
      { step: 'orders', name: 'fast', passed: 12, failed: 0 },
    ]);
    expect(report.totals.requests).toBe(24);
    expect(report.iterations).toEqual({ started: 12, completed: 12, failed: 0, failedBecause: {} });
  });

  it('counts a failed check exactly, per check name, and carries on with the flow', async () => {
    const scenario = parseScenario({
      flows: [
        {
          steps: [
            {
              path: '/items',
              checks: [{ name: 'has ok', json: '$.ok', equals: true }, { status: [200, 201] }],
            },
            { path: '/ping' },
          ],
        },
      ],
    });
    const results = await Promise.all([
      runShard(work({ scenario, load: { model: 'closed', requestsPerUser: [10, 10], thinkTimeMs: 0 } })),
      runShard(work({ scenario, load: { model: 'closed', requestsPerUser: [10, 10], thinkTimeMs: 0 } })),
    ]);
    const report = reportOf(
      {
        target,
        scenario: {
          flows: [
            {
              steps: [
                {
                  path: '/items',
                  checks: [{ name: 'has ok', json: '$.ok', equals: true }, { status: [200, 201] }],
                },
                { path: '/ping' },
              ],
            },
          ],
        },
        users: 4,
        requests: 10,
        workers: 2,
      },
      results,
    );
    expect(report.checks).toEqual([
      { step: 'GET /items', name: 'has ok', passed: 30, failed: 10 },
      { step: 'GET /items', name: 'status 200|201', passed: 40, failed: 0 },
    ]);
    // A failed check is not a failed request, and the next step still ran.
    expect(report.steps.map((step) => [step.name, step.requests, step.ok])).toEqual([
      ['GET /items', 40, 40],
      ['GET /ping', 40, 40],
    ]);
    expect(report.iterations).toMatchObject({ started: 40, completed: 40, failed: 0 });
  });

  it('ends an iteration whose capture finds nothing or whose aborting check fails, with the reason counted', async () => {
    const scenario = parseScenario({
      flows: [
        {
          weight: 1,
          steps: [
            { name: 'empty', path: '/empty', capture: { token: { json: '$.data.token' } } },
            { name: 'never', path: '/orders', headers: { authorization: 'Bearer {{ token }}' } },
          ],
        },
        {
          weight: 1,
          steps: [
            { name: 'items', path: '/items', checks: [{ json: '$.ok', exists: true, abortIteration: true }] },
            { name: 'after items', path: '/ping' },
          ],
        },
      ],
    });
    const result = await runShard(
      work({ scenario, load: { model: 'closed', requestsPerUser: [40], thinkTimeMs: 0 } }),
    );
    const steps = result.steps ?? [];
    const emptyRuns = steps[0]?.requests ?? 0;
    const itemsRuns = steps[2]?.requests ?? 0;
    const brokenItems = steps[2]?.checks[0]?.[1] ?? 0;
    expect(emptyRuns + itemsRuns).toBe(40);
    expect(emptyRuns).toBeGreaterThan(0);
    expect(brokenItems).toBe(Math.floor(itemsRuns / 4));
    expect(steps[1]?.requests).toBe(0);
    expect(steps[3]?.requests).toBe(itemsRuns - brokenItems);
    expect(shop.seen.orders).toHaveLength(0);
    expect(result.iterations).toEqual({
      started: 40,
      completed: itemsRuns - brokenItems,
      failed: emptyRuns + brokenItems,
      failedBecause: {
        'empty: capture token ($.data.token) found nothing': emptyRuns,
        ...(brokenItems > 0 ? { 'items: check "$.ok exists" failed': brokenItems } : {}),
      },
    });
  });

  it('drives scenarios in the open model: iterations started per second, each its own virtual user', async () => {
    const scenario = parseScenario({
      flows: [{ steps: [{ path: '/products/{{ $vu }}' }, { think: 5 }, { path: '/ping' }] }],
    });
    const result = await runShard(
      work({
        scenario,
        load: {
          model: 'open',
          stages: [{ durationSeconds: 2, from: 20, to: 20 }],
          shardIndex: 0,
          shardCount: 1,
          fromSeconds: 0,
          toSeconds: 2,
          maxConnections: 8,
        },
      }),
    );
    expect(result.iterations).toMatchObject({ started: 40, completed: 40, failed: 0 });
    expect(result.requests).toBe(80);
    expect(shop.seen.productIds.map(Number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, index) => index + 1),
    );
  });

  it('loops, fills query parameters and body templates, and waits its think time', async () => {
    const scenario = parseScenario({
      flows: [
        {
          steps: [
            {
              loop: {
                count: 3,
                steps: [
                  { path: '/products/p{{ $iteration }}', query: { n: '{{ $randomInt(5,5) }}' } },
                  { think: '20ms' },
                ],
              },
            },
          ],
        },
      ],
    });
    const started = performance.now();
    const result = await runShard(
      work({ scenario, load: { model: 'closed', requestsPerUser: [2], thinkTimeMs: 0 } }),
    );
    // Six thinks of 20 ms; libuv's timers count whole milliseconds from the loop's cached time, up to 1 ms early each.
    expect(performance.now() - started).toBeGreaterThanOrEqual(6 * 19);
    expect(result.requests).toBe(6);
    expect(shop.seen.productIds).toEqual(['p0', 'p0', 'p0', 'p1', 'p1', 'p1']);
  });
});

/** The scenario of the login test, as a request would send it. */
describe('scenario runs through the state machine', () => {
  const runs = useShopRuns();
  beforeEach(() => runs.shop.reset());

  it('gives each of four shards its own slice of a sequential feeder, so every row is used exactly once', async () => {
    const rows = PRODUCTS.map(({ id }) => ({ id }));
    const { runId, outcome, record } = await runs.run({
      users: 4,
      requests: 5,
      workers: 4,
      scenario: {
        flows: [
          {
            steps: [
              { name: 'product', path: '/products/{{ id }}', checks: [{ json: '$.id', exists: true }] },
            ],
          },
        ],
        data: { rows, order: 'sequential', per: 'iteration' },
      },
    });
    // The rows are stored apart from the run's options, which every shard reads.
    expect(record?.options.scenario?.data).toEqual({
      order: 'sequential',
      per: 'iteration',
      rowCount: 20,
      columns: ['id'],
    });
    expect(outcome).toMatchObject({ status: 'passed', requests: 20 });
    expect([...runs.shop.seen.productIds].sort()).toEqual(rows.map((row) => row.id).sort());
    const report = record?.report;
    expect(report?.steps).toHaveLength(1);
    expect(report?.steps[0]).toMatchObject({ name: 'product', requests: 20, ok: 20 });
    expect(report?.checks).toEqual([{ step: 'product', name: '$.id exists', passed: 20, failed: 0 }]);
    expect(report?.iterations).toEqual({ started: 20, completed: 20, failed: 0, failedBecause: {} });
    // Each shard's per-step figures were stored and merged, not read from the run's totals.
    const shards = await runs.store.shardResults(runId);
    expect(shards.map((row) => (row.result as ShardResult).steps?.[0]?.requests)).toEqual([5, 5, 5, 5]);
  });

  it('carries a sequential feeder on across the rounds of a closed-model run, each row once', async () => {
    const rows = PRODUCTS.slice(0, 6).map(({ id }) => ({ id }));
    const { outcome, record } = await runs.run(
      {
        users: 1,
        requests: 6,
        scenario: {
          flows: [{ steps: [{ name: 'product', path: '/products/{{ id }}' }, { think: 450 }] }],
          data: { rows },
        },
      },
      { ...DEFAULT_LIMITS, shardSeconds: 1 },
    );
    expect(outcome.status).toBe('passed');
    expect(record?.report?.rounds).toBeGreaterThan(1);
    expect(runs.shop.seen.productIds).toEqual(rows.map((row) => row.id));
  });
});
