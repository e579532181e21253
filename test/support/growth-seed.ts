// Months of loadwatch data written in bulk (generate_series, one statement per table): the monitor's samples,
// incidents and alerts, finished load-test runs with their reports and shard rows. For the query-plan tests and
// the growth bench.

import pg from 'pg';
import type { ShardResult } from '../../lib/loadtest/engine.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import type { LoadTestReport } from '../../lib/loadtest/report.ts';
import { reportOf } from './report.ts';
import { syntheticShard } from './synthetic-shards.ts';

export interface GrowthScale {
  checks: number;
  /** One sample a minute per check, this many minutes back from `now`. */
  sampleMinutes: number;
  /** Resolved incidents spread over the sample history, each with a raised and a resolved alert. */
  incidents: number;
  /** Checks with an incident still open (at most `checks`). */
  openIncidents: number;
  /** Finished runs, one every few minutes back from `now`. */
  runs: number;
  /** Shard rows each run still has (as if retention had not run yet). */
  shardsPerRun: number;
}

/** 50 checks × a sample a minute × 30 days, 100,000 incidents and their alerts, 20,000 runs. */
export const PRODUCTION_SCALE: GrowthScale = {
  checks: 50,
  sampleMinutes: 30 * 24 * 60,
  incidents: 100_000,
  openIncidents: 3,
  runs: 20_000,
  shardsPerRun: 2,
};

export interface GrowthData {
  checkNames: string[];
  /** A finished run with a report, the newest. */
  runId: string;
  report: LoadTestReport;
  now: Date;
}

export const checkName = (index: number) => `check-${String(index).padStart(3, '0')}`;

/** A real run's report and shard, stored the way the Aggregate step and the workers store them. */
function sampleRun(): { report: LoadTestReport; shard: ShardResult; options: unknown } {
  const input = { target: 'http://127.0.0.1:8080/', rate: 100, duration: '60s', workers: 2 };
  const shards = [1, 2].map(
    (seed) => syntheticShard({ seed, fromSecond: 0, seconds: 60, requestsPerSecond: 50 }).result,
  );
  const report = reportOf(input, shards);
  return { report, shard: shards[0] as ShardResult, options: parseLoadTestInput(input) };
}

const bytes = (array: Uint8Array) => Buffer.from(array.buffer, array.byteOffset, array.byteLength);

/** Writes the data on `client`'s (migrated, empty) database and ANALYZEs it, as autovacuum would by then. */
export async function seedGrowth(
  client: pg.ClientBase,
  scale: GrowthScale,
  now = new Date(),
): Promise<GrowthData> {
  const { report, shard, options } = sampleRun();
  const { latency, latencyUncorrected, timeline, ...summary } = shard;
  await client.query(
    `INSERT INTO monitor_check_states (check_name, since, interval_seconds)
     SELECT 'check-' || lpad(c::text, 3, '0'), $2::timestamptz - make_interval(mins => $3), 60
       FROM generate_series(1, $1::int) c`,
    [scale.checks, now, scale.sampleMinutes],
  );
  // In time order, every check once a minute, as the monitor's cycles write them; one probe in 97 failed.
  await client.query(
    `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error)
     SELECT 'check-' || lpad(c::text, 3, '0'), $3::timestamptz - make_interval(mins => m),
            (m + c) % 97 <> 0, CASE WHEN (m + c) % 97 <> 0 THEN 200 ELSE 503 END,
            20 + (m * 7 + c) % 50, CASE WHEN (m + c) % 97 = 0 THEN 'status 503' END
       FROM generate_series($2::int - 1, 0, -1) m, generate_series(1, $1::int) c`,
    [scale.checks, scale.sampleMinutes, now],
  );
  await client.query(
    `INSERT INTO monitor_incidents (check_name, opened_at, resolved_at, rules, severity, summary, last_notified_at)
     SELECT 'check-' || lpad((1 + i % $2::int)::text, 3, '0'), opened, opened + interval '5 minutes',
            ARRAY['down'], 'critical', 'status 503 three times in a row', opened
       FROM generate_series(1, $1::int) i,
            LATERAL (SELECT $4::timestamptz - make_interval(secs => (i::float8 / $1) * $3 * 60) AS opened) o`,
    [scale.incidents, scale.checks, scale.sampleMinutes, now],
  );
  await client.query(
    `INSERT INTO monitor_incidents (check_name, opened_at, rules, severity, summary, last_notified_at)
     SELECT 'check-' || lpad(c::text, 3, '0'), $2::timestamptz - interval '10 minutes', ARRAY['down'],
            'critical', 'status 503 three times in a row', $2::timestamptz - interval '10 minutes'
       FROM generate_series(1, $1::int) c`,
    [Math.min(scale.openIncidents, scale.checks), now],
  );
  await client.query(
    `INSERT INTO alert_outbox (incident_id, kind, payload, created_at, sent_at, attempts)
     SELECT id, kind, jsonb_build_object('subject', 'ALARM ' || check_name), opened_at, opened_at, 1
       FROM monitor_incidents, unnest(ARRAY['raised', 'resolved']) kind
      WHERE kind = 'raised' OR resolved_at IS NOT NULL`,
  );
  // One run every few minutes back from now, each finished five minutes after it started, all with a report.
  await client.query(
    `INSERT INTO loadtest_runs (id, status, target, options, created_at, started_at, finished_at, heartbeat_at, report)
     SELECT md5('run-' || r)::uuid, CASE WHEN r % 10 = 0 THEN 'failed' ELSE 'passed' END,
            'http://127.0.0.1:8080/', $3::jsonb, created, created, created + interval '5 minutes',
            created + interval '5 minutes', $4::json
       FROM generate_series(1, $1::int) r,
            LATERAL (SELECT $2::timestamptz - make_interval(mins => r * 3 + 5) AS created) c`,
    [scale.runs, now, JSON.stringify(options), JSON.stringify(report)],
  );
  await client.query(
    `INSERT INTO loadtest_shard_results (run_id, round, shard, summary, latency, latency_uncorrected, timeline, updated_at)
     SELECT id, 0, s, $2::jsonb, $3, $4, $5, finished_at - interval '10 seconds'
       FROM loadtest_runs, generate_series(0, $1::int - 1) s`,
    [
      scale.shardsPerRun,
      JSON.stringify(summary),
      bytes(latency),
      latencyUncorrected === latency ? null : bytes(latencyUncorrected),
      bytes(timeline),
    ],
  );
  await client.query('VACUUM ANALYZE');
  const newest = await client.query<{ id: string }>(
    `SELECT id FROM loadtest_runs ORDER BY created_at DESC LIMIT 1`,
  );
  return {
    checkNames: Array.from({ length: scale.checks }, (_, index) => checkName(index + 1)),
    runId: newest.rows[0]?.id ?? '',
    report,
    now,
  };
}

/** seedGrowth on the database at `url`, over a connection of its own. */
export async function seedGrowthAt(url: string, scale: GrowthScale, now = new Date()): Promise<GrowthData> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await seedGrowth(client, scale, now);
  } finally {
    await client.end();
  }
}
