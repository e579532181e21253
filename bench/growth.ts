// The API's reads, the monitor's cycle and retention on a database a month old, against a fresh one.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import pg from 'pg';
import { createApi } from '../lib/api/create-api.ts';
import { loadConfig } from '../lib/config/config.ts';
import { runMigrations } from '../lib/db/migration-runner.ts';
import { listMigrations } from '../lib/db/migrations.ts';
import { createDb, type Db } from '../lib/db/pool.ts';
import { type PruneReport, RETENTION_DEFAULTS } from '../lib/db/retention.ts';
import { LoadTestStore } from '../lib/loadtest/store.ts';
import { removeDataDirectory, startEmbeddedPostgres } from '../lib/local/embedded-postgres.ts';
import { urlTarget } from '../lib/local/stack.ts';
import { createLogger } from '../lib/log/logger.ts';
import type { Sample } from '../lib/monitor/probe.ts';
import { sloWindows } from '../lib/monitor/slo.ts';
import { MonitorStore } from '../lib/monitor/store.ts';
import { type GrowthScale, PRODUCTION_SCALE, seedGrowth } from '../test/support/growth-seed.ts';
import { gatewayEvent, LAMBDA_ENV, lambdaContext } from './support/lambda-invocation.ts';
import { formatMilliseconds, formatRatio, type Table } from './support/report.ts';
import { median, percentile } from './support/statistics.ts';

/** A database just deployed: the same 50 checks with one sample each, one finished run. */
const FRESH_SCALE: GrowthScale = {
  checks: PRODUCTION_SCALE.checks,
  sampleMinutes: 1,
  incidents: 0,
  openIncidents: 0,
  runs: 1,
  shardsPerRun: 2,
};

const REQUESTS_PER_ROUTE = 60;
const WARMUP_REQUESTS = 5;
const CYCLES = 20;
/** The targets: every read route, and the monitor's database time per cycle. */
export const ROUTE_TARGET_MS = 50;
export const CYCLE_TARGET_MS = 100;

export interface RouteTiming {
  route: string;
  fresh: { p50: number; p95: number };
  grown: { p50: number; p95: number };
}

export interface CycleTiming {
  /** Database time per cycle, median and p95 over CYCLES cycles, split by what the cycle does. */
  store: { p50: number; p95: number };
  rules: { p50: number; p95: number };
  prune: { p50: number; p95: number };
  total: { p50: number; p95: number };
}

/** What the uptime rollup's triggers add to writes of samples, against the same writes with them disabled. */
export interface RollupCost {
  /** One monitor cycle's insert of 50 samples, p50 and p95 of CYCLES. */
  cycleInsert: { withRollup: { p50: number; p95: number }; without: { p50: number; p95: number } };
  /** A day of the 50 checks' samples (72,000) in one INSERT … SELECT, and the same rows in one DELETE: medians. */
  bulkInsert: { withRollup: number; without: number };
  bulkDelete: { withRollup: number; without: number };
  /** Applying migration 0012 to the month of samples, its backfill and all: how long it holds writers off. */
  backfillMs: number;
}

/** A latency objective on every check at a month: its windows counted from the samples and from the rollup. */
export interface LatencySloTiming {
  /** Database time of one cycle's windowCounts for every check, p50 and p95. */
  raw: { p50: number; p95: number };
  rollup: { p50: number; p95: number };
  /** Registering the 50 bounds, their month of hours backfilled: how long writers of samples wait. */
  registerMs: number;
  /** One cycle's insert of 50 samples without bounds registered and with them, p50 and p95. */
  insert: { without: { p50: number; p95: number }; withBounds: { p50: number; p95: number } };
}

export interface GrowthResult {
  scale: GrowthScale;
  rows: Record<string, number>;
  databaseBytes: number;
  seedSeconds: number;
  routes: RouteTiming[];
  cycle: { fresh: CycleTiming; grown: CycleTiming };
  rollup: RollupCost;
  latencySlo: { fresh: LatencySloTiming; grown: LatencySloTiming };
  retention: Array<{ kind: string; report: PruneReport; totalMs: number; writerMaxMs: number }>;
}

const summary = (samples: number[]) => ({ p50: percentile(samples, 50), p95: percentile(samples, 95) });

interface Grown {
  url: string;
  db: Db;
  checkNames: string[];
  runId: string;
  now: Date;
}

async function prepare(serverUrl: string, name: string, scale: GrowthScale): Promise<Grown> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await runMigrations({ target: urlTarget(url.toString()), direction: 'up' });
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const data = await seedGrowth(client, scale);
    // Lambda's pool: one connection, as every API container has.
    const db = createDb({
      target: urlTarget(url.toString()),
      pool: { size: 1, maxOverflow: 0, recycleSeconds: 0, timeoutSeconds: 10, statementTimeoutMs: 8000 },
    });
    return { url: url.toString(), db, checkNames: data.checkNames, runId: data.runId, now: data.now };
  } finally {
    await client.end();
  }
}

/** /metrics answers scrapers holding its own token. */
const METRICS_TOKEN = 'growth-bench-metrics-token';

function routeEvents(grown: Grown): Array<{ route: string; event: () => APIGatewayProxyEventV2 }> {
  const get =
    (path: string, query: Record<string, string> = {}) =>
    () => ({
      ...gatewayEvent('GET', path),
      rawQueryString: new URLSearchParams(query).toString(),
      queryStringParameters: query,
    });
  const check = grown.checkNames[7] ?? '';
  return [
    { route: 'GET /v1/checks', event: get('/v1/checks') },
    {
      route: 'GET /v1/checks/{name}/samples?since=1h',
      event: () =>
        get(`/v1/checks/${check}/samples`, {
          since: new Date(grown.now.getTime() - 3_600_000).toISOString(),
        })(),
    },
    {
      route: 'GET /v1/checks/{name}/samples?since=24h',
      event: () =>
        get(`/v1/checks/${check}/samples`, {
          since: new Date(grown.now.getTime() - 86_400_000).toISOString(),
        })(),
    },
    { route: 'GET /v1/alerts', event: get('/v1/alerts') },
    { route: 'GET /v1/alerts?state=firing', event: get('/v1/alerts', { state: 'firing' }) },
    { route: 'GET /v1/loadtests', event: get('/v1/loadtests') },
    { route: 'GET /v1/loadtests/{id}', event: get(`/v1/loadtests/${grown.runId}`) },
    { route: 'GET /v1/loadtests/{id}/report.html', event: get(`/v1/loadtests/${grown.runId}/report.html`) },
    { route: 'GET /status', event: get('/status') },
    {
      route: 'GET /metrics',
      event: () => {
        const event = get('/metrics')();
        return { ...event, headers: { ...event.headers, authorization: `Bearer ${METRICS_TOKEN}` } };
      },
    },
  ];
}

async function timeRoutes(grown: Grown): Promise<Map<string, { p50: number; p95: number }>> {
  const config = loadConfig({ ...LAMBDA_ENV, DATABASE_URL: grown.url, METRICS_TOKEN });
  const handler = createApi({
    config,
    db: grown.db,
    logger: createLogger({ level: 'error', write: () => undefined }),
    knownMigrations: listMigrations(),
    starter: { start: () => Promise.reject(new Error('the bench starts no runs')) },
  });
  const timings = new Map<string, { p50: number; p95: number }>();
  for (const { route, event } of routeEvents(grown)) {
    const samples: number[] = [];
    for (let index = 0; index < WARMUP_REQUESTS + REQUESTS_PER_ROUTE; index++) {
      const started = performance.now();
      const result = await handler(event(), lambdaContext());
      const elapsed = performance.now() - started;
      if (result.statusCode !== 200)
        throw new Error(`${route} answered ${result.statusCode}: ${result.body}`);
      if (index >= WARMUP_REQUESTS) samples.push(elapsed);
    }
    timings.set(route, summary(samples));
  }
  return timings;
}

/** A Db that adds up the time its queries and transactions take. */
function timedDb(db: Db): Db & { elapsedMs: number } {
  const timed = {
    elapsedMs: 0,
    query: (...args: Parameters<Db['query']>) => measure(() => db.query(...args)),
    transaction: (...args: Parameters<Db['transaction']>) => measure(() => db.transaction(...args)),
    stats: () => db.stats(),
    close: () => db.close(),
  };
  async function measure<T>(call: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await call();
    } finally {
      timed.elapsedMs += performance.now() - started;
    }
  }
  return timed as Db & { elapsedMs: number };
}

/**
 * The database side of monitor cycles one minute apart: store this cycle's samples; per check, read the newest
 * samples its rules weigh and carry its state in the locked transaction; deliver and count the outbox; prune.
 * One check after another, as the monitor's single connection serialises them.
 */
async function timeCycles(grown: Grown, retentionDays: number): Promise<CycleTiming> {
  const db = timedDb(grown.db);
  const store = new MonitorStore(db);
  const parts = {
    store: [] as number[],
    rules: [] as number[],
    prune: [] as number[],
    total: [] as number[],
  };
  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    const now = new Date(grown.now.getTime() + cycle * 60_000);
    const samples: Sample[] = grown.checkNames.map((key) => ({
      key,
      name: key,
      at: now,
      ok: true,
      status: 200,
      latencyMs: 21,
      error: null,
    })) as unknown as Sample[];
    db.elapsedMs = 0;
    await store.insertSamples(samples);
    const stored = db.elapsedMs;
    for (const key of grown.checkNames) {
      await store.recentSamples([key], 5);
      await store.withCheck(key, { now, intervalSeconds: 60 }, async (tx) => ({
        state: tx.state,
        result: null,
      }));
    }
    await store.deliverPending(25, async () => undefined);
    await store.pendingCount();
    const ruled = db.elapsedMs;
    await store.prune(retentionDays, now);
    parts.store.push(stored);
    parts.rules.push(ruled - stored);
    parts.prune.push(db.elapsedMs - ruled);
    parts.total.push(db.elapsedMs);
  }
  return {
    store: summary(parts.store),
    rules: summary(parts.rules),
    prune: summary(parts.prune),
    total: summary(parts.total),
  };
}

const BULK_REPEATS = 3;
const ROLLUP_MIGRATION = '0012_monitor-uptime-rollup';

/**
 * Reverts the rollup's migration (and any after it) on the grown database and applies it again: the time its
 * backfill of the month holds writers of samples off.
 */
async function timeRollupMigration(grown: Grown): Promise<number> {
  const known = listMigrations();
  const count = known.length - known.indexOf(ROLLUP_MIGRATION);
  const target = urlTarget(grown.url);
  await runMigrations({ target, direction: 'down', count });
  const started = performance.now();
  await runMigrations({ target, direction: 'up' });
  return performance.now() - started;
}

/**
 * The writes of samples timed with the rollup's triggers and with them disabled, alternately, on the grown
 * database. Each write goes to a day after `now` that nothing else reads, and is deleted again in the same mode, so
 * the rollup stays exact for what follows.
 */
async function timeRollupCost(grown: Grown): Promise<RollupCost> {
  const client = new pg.Client({ connectionString: grown.url });
  await client.connect();
  const db = timedDb(grown.db);
  const store = new MonitorStore(db);
  const future = grown.now.getTime() + 2 * 86_400_000;
  const setTriggers = (enabled: boolean) =>
    client.query(`ALTER TABLE monitor_samples ${enabled ? 'ENABLE' : 'DISABLE'} TRIGGER USER`);
  const inserts = { withRollup: [] as number[], without: [] as number[] };
  const bulk = {
    insert: { withRollup: [] as number[], without: [] as number[] },
    delete: { withRollup: [] as number[], without: [] as number[] },
  };
  const timed = async (statement: string, params: unknown[]) => {
    const started = performance.now();
    await client.query(statement, params);
    return performance.now() - started;
  };
  try {
    for (let round = 0; round < 2 * CYCLES; round++) {
      const mode = round % 2 === 0 ? 'withRollup' : 'without';
      await setTriggers(mode === 'withRollup');
      const at = new Date(future + round * 60_000);
      db.elapsedMs = 0;
      await store.insertSamples(
        grown.checkNames.map((key) => ({
          key,
          at,
          ok: round % 3 !== 0,
          status: 200,
          latencyMs: 21,
          error: null,
        })) as unknown as Sample[],
      );
      inserts[mode].push(db.elapsedMs);
      await client.query(`DELETE FROM monitor_samples WHERE at = $1`, [at]);
    }
    for (let round = 0; round < 2 * BULK_REPEATS; round++) {
      const mode = round % 2 === 0 ? 'withRollup' : 'without';
      await setTriggers(mode === 'withRollup');
      const from = new Date(future);
      bulk.insert[mode].push(
        await timed(
          `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error)
           SELECT check_name, $1::timestamptz + make_interval(mins => m), m % 97 <> 0, 200, 20 + m % 50, NULL
             FROM generate_series(0, 1439) m, unnest($2::text[]) AS check_name`,
          [from, grown.checkNames],
        ),
      );
      bulk.delete[mode].push(
        await timed(
          `DELETE FROM monitor_samples WHERE at >= $1 AND at < $1::timestamptz + interval '1 day'`,
          [from],
        ),
      );
    }
  } finally {
    await setTriggers(true);
    await client.end();
  }
  return {
    backfillMs: Number.NaN,
    cycleInsert: { withRollup: summary(inserts.withRollup), without: summary(inserts.without) },
    bulkInsert: { withRollup: median(bulk.insert.withRollup), without: median(bulk.insert.without) },
    bulkDelete: { withRollup: median(bulk.delete.withRollup), without: median(bulk.delete.without) },
  };
}

const LATENCY_BOUND_MS = 60;
const RAW_CYCLES = 5;

/**
 * Every check declaring a 30-day p95 objective of LATENCY_BOUND_MS: the windows a cycle reads counted from the
 * samples (the bound not registered: what the monitor read before the rollup) and from the rollup, and what the
 * bounds add to the cycle's insert of samples. The bounds are dropped again afterwards.
 */
async function timeLatencySlo(grown: Grown): Promise<LatencySloTiming> {
  const db = timedDb(grown.db);
  const store = new MonitorStore(db);
  const windows = sloWindows({
    kind: 'latency',
    targetPercent: 95,
    latencyMs: LATENCY_BOUND_MS,
    windowDays: 30,
  });
  const future = grown.now.getTime() + 4 * 86_400_000;
  const cycleOfWindows = async (cycle: number) => {
    const now = new Date(grown.now.getTime() - cycle * 60_000);
    db.elapsedMs = 0;
    for (const key of grown.checkNames) await store.windowCounts(key, now, windows, LATENCY_BOUND_MS);
    return db.elapsedMs;
  };
  const inserts = async (round: number) => {
    const timings: number[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const at = new Date(future + (round * CYCLES + cycle) * 60_000);
      db.elapsedMs = 0;
      await store.insertSamples(
        grown.checkNames.map((key) => ({
          key,
          at,
          ok: true,
          status: 200,
          latencyMs: 21,
          error: null,
        })) as unknown as Sample[],
      );
      timings.push(db.elapsedMs);
    }
    await grown.db.query(`DELETE FROM monitor_samples WHERE at >= $1`, [new Date(future)]);
    return summary(timings);
  };
  const raw: number[] = [];
  for (let cycle = 0; cycle < RAW_CYCLES; cycle++) raw.push(await cycleOfWindows(cycle));
  const without = await inserts(0);
  const started = performance.now();
  await new MonitorStore(grown.db).registerLatencyBounds(
    grown.checkNames,
    grown.checkNames.map((key) => ({ key, boundMs: LATENCY_BOUND_MS })),
  );
  const registerMs = performance.now() - started;
  const rollup: number[] = [];
  for (let cycle = 0; cycle < CYCLES; cycle++) rollup.push(await cycleOfWindows(cycle));
  const withBounds = await inserts(1);
  await new MonitorStore(grown.db).registerLatencyBounds(grown.checkNames, []);
  return { raw: summary(raw), rollup: summary(rollup), registerMs, insert: { without, withBounds } };
}

/** Runs a prune while a writer inserts a cycle's samples every 20 ms: the writer's slowest insert is the pause. */
async function pruneWithWriter(
  grown: Grown,
  prune: () => Promise<PruneReport>,
): Promise<{ report: PruneReport; totalMs: number; writerMaxMs: number }> {
  const writerDb = createDb({
    target: urlTarget(grown.url),
    pool: { size: 1, maxOverflow: 0, recycleSeconds: 0, timeoutSeconds: 10, statementTimeoutMs: 0 },
  });
  const writer = new MonitorStore(writerDb);
  let running = true;
  let writerMaxMs = 0;
  const writing = (async () => {
    while (running) {
      const started = performance.now();
      await writer.insertSamples(
        grown.checkNames.map((key) => ({
          key,
          at: new Date(),
          ok: true,
          status: 200,
          latencyMs: 20,
          error: null,
        })) as unknown as Sample[],
      );
      writerMaxMs = Math.max(writerMaxMs, performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  try {
    const started = performance.now();
    const report = await prune();
    return { report, totalMs: performance.now() - started, writerMaxMs };
  } finally {
    running = false;
    await writing;
    await writerDb.close();
  }
}

export async function measureGrowth(progress: (message: string) => void): Promise<GrowthResult> {
  const stateDir = mkdtempSync(join(tmpdir(), 'loadwatch-growth-'));
  const postgres = await startEmbeddedPostgres({ dataDir: stateDir, database: 'postgres' });
  const opened: Db[] = [];
  try {
    progress('growth: fresh database');
    const fresh = await prepare(postgres.url, 'growth_fresh', FRESH_SCALE);
    opened.push(fresh.db);
    progress(
      'growth: seeding 30 days of monitor history, 100,000 incidents and 20,000 runs (about a minute)',
    );
    const seedStarted = performance.now();
    const grown = await prepare(postgres.url, 'growth_month', PRODUCTION_SCALE);
    opened.push(grown.db);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const counted = await grown.db.query<{ table: string; rows: string }>(
      `SELECT relname AS table, n_live_tup AS rows FROM pg_stat_user_tables WHERE n_live_tup > 0 ORDER BY relname`,
    );
    const size = await grown.db.query<{ bytes: string }>(
      `SELECT pg_database_size(current_database()) AS bytes`,
    );

    progress('growth: read routes, fresh and at size');
    const freshRoutes = await timeRoutes(fresh);
    const grownRoutes = await timeRoutes(grown);
    const routes = routeEvents(grown).map(({ route }) => ({
      route,
      fresh: freshRoutes.get(route) ?? { p50: Number.NaN, p95: Number.NaN },
      grown: grownRoutes.get(route) ?? { p50: Number.NaN, p95: Number.NaN },
    }));

    progress('growth: monitor cycles');
    // 30 days kept: each cycle prunes the minute that fell out of the window, as it would in steady state.
    const cycle = { fresh: await timeCycles(fresh, 30), grown: await timeCycles(grown, 30) };
    progress('growth: what the uptime rollup costs writers of samples');
    const rollup = await timeRollupCost(grown);
    progress('growth: latency objectives on every check, from the samples and from the rollup');
    const latencySlo = { fresh: await timeLatencySlo(fresh), grown: await timeLatencySlo(grown) };

    progress('growth: retention of a backlog (16 days of samples, 20,000 runs of shard rows)');
    const samples = await pruneWithWriter(grown, () => new MonitorStore(grown.db).prune(14, grown.now));
    const shards = await pruneWithWriter(grown, () =>
      new LoadTestStore(grown.db, {
        retention: { ...RETENTION_DEFAULTS, maxBatches: 1000 },
      }).pruneShardResults(24),
    );
    progress('growth: migration 0012 on a month of samples');
    rollup.backfillMs = await timeRollupMigration(grown);
    return {
      scale: PRODUCTION_SCALE,
      rows: Object.fromEntries(counted.rows.map((row) => [row.table, Number(row.rows)])),
      databaseBytes: Number(size.rows[0]?.bytes ?? 0),
      seedSeconds,
      routes,
      cycle,
      rollup,
      latencySlo,
      retention: [
        { kind: 'monitor samples older than 14 days', ...samples },
        { kind: 'shard rows of runs finished over 24 h ago', ...shards },
      ],
    };
  } finally {
    for (const db of opened) await db.close().catch(() => undefined);
    await postgres.stop();
    removeDataDirectory(stateDir);
  }
}

const ms = (value: number) => formatMilliseconds(value);
const verdict = (value: number, target: number) => (value <= target ? 'yes' : 'NO');

export function growthTables(result: GrowthResult): Table[] {
  const rows = Object.entries(result.rows)
    .map(([table, count]) => `${table} ${count.toLocaleString('en-US')}`)
    .join(', ');
  const cycleRow = (name: string, key: keyof CycleTiming) => [
    name,
    ms(result.cycle.fresh[key].p50),
    ms(result.cycle.fresh[key].p95),
    ms(result.cycle.grown[key].p50),
    ms(result.cycle.grown[key].p95),
  ];
  const bulkRow = (name: string, timing: { withRollup: number; without: number }) => [
    name,
    ms(timing.without),
    '',
    ms(timing.withRollup),
    '',
    formatRatio(timing.withRollup / timing.without),
  ];
  const sloRow = (key: 'raw' | 'rollup') => [
    ms(result.latencySlo.fresh[key].p50),
    ms(result.latencySlo.fresh[key].p95),
    ms(result.latencySlo.grown[key].p50),
    ms(result.latencySlo.grown[key].p95),
  ];
  const insertRow = (key: 'without' | 'withBounds') => [
    ms(result.latencySlo.fresh.insert[key].p50),
    ms(result.latencySlo.fresh.insert[key].p95),
    ms(result.latencySlo.grown.insert[key].p50),
    ms(result.latencySlo.grown.insert[key].p95),
  ];
  return [
    {
      title: `Growth: read routes on a month of data against a fresh database (anchor), p95 of ${REQUESTS_PER_ROUTE} requests`,
      columns: [
        'route',
        'fresh p50',
        'fresh p95',
        'month p50',
        'month p95',
        'month / fresh',
        `≤ ${ROUTE_TARGET_MS} ms`,
      ],
      rows: result.routes.map((route) => [
        route.route,
        ms(route.fresh.p50),
        ms(route.fresh.p95),
        ms(route.grown.p50),
        ms(route.grown.p95),
        formatRatio(route.grown.p95 / route.fresh.p95),
        verdict(route.grown.p95, ROUTE_TARGET_MS),
      ]),
      notes: [
        `in process through the API handler (middy, CORS, routing), one pooled connection as on Lambda, embedded PostgreSQL 17`,
        `month: ${rows}; ${(result.databaseBytes / 1024 ** 3).toFixed(2)} GiB, seeded in ${result.seedSeconds.toFixed(0)} s`,
        'fresh: the same 50 checks with one sample each, one finished run',
      ],
    },
    {
      title: `Growth: the monitor's database time per cycle (50 checks), median and p95 of ${CYCLES} cycles`,
      columns: ['part', 'fresh p50', 'fresh p95', 'month p50', 'month p95'],
      rows: [
        cycleRow('store the samples', 'store'),
        cycleRow('rules: recent samples, state, outbox', 'rules'),
        cycleRow('prune (steady state)', 'prune'),
        [
          ...cycleRow('total', 'total'),
          `≤ ${CYCLE_TARGET_MS} ms: ${verdict(result.cycle.grown.total.p95, CYCLE_TARGET_MS)}`,
        ],
      ],
      notes: [
        'each cycle a minute after the last, samples kept 30 days: the prune deletes the minute that expired',
      ],
    },
    {
      title: `Growth: what the uptime rollup's triggers cost writes of samples at a month, against the same writes without them (anchor)`,
      columns: ['write', 'without p50', 'without p95', 'with p50', 'with p95', 'with / without (p50)'],
      rows: [
        [
          "a cycle's 50 samples (insertSamples)",
          ms(result.rollup.cycleInsert.without.p50),
          ms(result.rollup.cycleInsert.without.p95),
          ms(result.rollup.cycleInsert.withRollup.p50),
          ms(result.rollup.cycleInsert.withRollup.p95),
          formatRatio(result.rollup.cycleInsert.withRollup.p50 / result.rollup.cycleInsert.without.p50),
        ],
        bulkRow('a day of 50 checks (72,000) in one INSERT … SELECT', result.rollup.bulkInsert),
        bulkRow('the same 72,000 in one DELETE', result.rollup.bulkDelete),
      ],
      notes: [
        `migration 0012 applied to the month's ${result.rows.monitor_samples?.toLocaleString('en-US')} samples: ${ms(result.rollup.backfillMs)} (writers of samples wait meanwhile)`,
        `with and without alternately (ALTER TABLE … DISABLE TRIGGER USER); ${CYCLES} cycles each, the bulk writes medians of ${BULK_REPEATS}`,
      ],
    },
    {
      title: `Growth: SLO windows, 50 latency objectives: counted from the samples (anchor) and from the latency rollup, fresh and at a month`,
      columns: [
        'database time per cycle',
        'fresh p50',
        'fresh p95',
        'month p50',
        'month p95',
        'month: rollup / samples',
      ],
      rows: [
        [
          `every check's ${sloWindows({ kind: 'latency', targetPercent: 95, latencyMs: LATENCY_BOUND_MS, windowDays: 30 }).length} windows (5 min … 30 d) from the samples`,
          ...sloRow('raw'),
          '',
        ],
        [
          'the same from the rollup',
          ...sloRow('rollup'),
          formatRatio(result.latencySlo.grown.rollup.p50 / result.latencySlo.grown.raw.p50),
        ],
        ["a cycle's 50 samples stored, no bound registered", ...insertRow('without'), ''],
        [
          'the same with the 50 bounds registered',
          ...insertRow('withBounds'),
          `${formatRatio(result.latencySlo.grown.insert.withBounds.p50 / result.latencySlo.grown.insert.without.p50)} the insert`,
        ],
      ],
      notes: [
        `every check a 30-day p95 objective of ${LATENCY_BOUND_MS} ms, one statement per check as the cycle reads them; the samples' figures over ${RAW_CYCLES} cycles, the rollup's over ${CYCLES}`,
        `registering the 50 bounds, a month of their hours backfilled: ${ms(result.latencySlo.grown.registerMs)} (writers of samples wait meanwhile); fresh: ${ms(result.latencySlo.fresh.registerMs)}`,
      ],
    },
    {
      title: 'Growth: retention of a backlog at size, a writer inserting 50 samples every 20 ms meanwhile',
      columns: [
        'kind',
        'rows deleted',
        'batches',
        'longest batch',
        'total',
        "writer's slowest insert",
        'backlog',
      ],
      rows: result.retention.map((item) => [
        item.kind,
        item.report.deleted.toLocaleString('en-US'),
        String(item.report.batches),
        ms(item.report.longestBatchMs),
        ms(item.totalMs),
        ms(item.writerMaxMs),
        item.report.complete ? 'cleared' : 'rest next prune',
      ]),
      notes: [
        `batches of ${RETENTION_DEFAULTS.sampleBatchRows} samples and ${RETENTION_DEFAULTS.shardBatchRows} shard rows (MONITOR_PRUNE_BATCH_ROWS, LOADTEST_PRUNE_BATCH_ROWS);`,
        `one prune runs at most PRUNE_MAX_BATCHES (${RETENTION_DEFAULTS.maxBatches}) statements for samples: a backlog clears over a few cycles`,
      ],
    },
  ];
}
