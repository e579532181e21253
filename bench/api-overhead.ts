// Per-request cost of the API handler (middy, CORS, routing, security headers, request log) against a bare handler.

import { closeSync, openSync, writeSync } from 'node:fs';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { createApi } from '../lib/api/create-api.ts';
import { loadConfig } from '../lib/config/config.ts';
import { listMigrations } from '../lib/db/migrations.ts';
import type { Db } from '../lib/db/pool.ts';
import { invocationLogFields } from '../lib/log/lambda-context.ts';
import { createLogger } from '../lib/log/logger.ts';
import { handler as bareHandler } from './anchors/bare-handler.ts';
import {
  BENCH_ORIGIN,
  healthEvent,
  LAMBDA_ENV,
  lambdaContext,
  notFoundEvent,
  preflightEvent,
} from './support/lambda-invocation.ts';
import { formatNanoseconds, formatRatio, type Table } from './support/report.ts';
import { median } from './support/statistics.ts';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

const anchorHandler: Handler = bareHandler;

const ROUNDS = 7;
/** Long enough for V8 to optimise a handler before any round counts. */
const WARMUP_MS = 250;
const WARMUP_BATCH = 1_000;
/** Each round of each handler aims at this much time, within the iteration bounds below. */
const ROUND_BUDGET_MS = 200;
const MIN_ITERATIONS = 10_000;
const MAX_ITERATIONS = 200_000;
/**
 * Lambda runs each invocation in its own macrotask; a loop of awaits never leaves the microtask queue, so
 * Node's per-tick work (the rejection bookkeeping of every error response, for one) would pile up unbounded.
 */
const ITERATIONS_PER_MACROTASK = 256;

export interface HandlerTiming {
  /** Median over the rounds. */
  nsPerOp: number;
  iterations: number;
  roundsNsPerOp: number[];
}

export interface OverheadCase {
  name: string;
  status: number;
  anchor: HandlerTiming;
  loadwatch: HandlerTiming;
  overheadMicroseconds: number;
  ratio: number;
}

export interface ApiOverheadResult {
  rounds: number;
  cases: OverheadCase[];
}

interface CaseDefinition {
  name: string;
  event: APIGatewayProxyEventV2;
  status: number;
  handler: Handler;
  /** Counts the log lines written, for cases whose figure must include one; checked before timing. */
  logLines?: () => number;
}

interface CasePlan {
  definition: CaseDefinition;
  anchorIterations: number;
  loadwatchIterations: number;
  anchorRounds: number[];
  loadwatchRounds: number[];
}

function unreachableDb(): Db {
  const fail = (): never => {
    throw new Error('bench: the measured routes must not touch the database');
  };
  return { query: fail, transaction: fail, stats: fail, close: fail };
}

/** The API as functions/api.ts assembles it, with the log lines going to write. */
function createLoadwatchHandler(write: (line: string) => void, env: Record<string, string> = {}): Handler {
  const config = loadConfig({ ...LAMBDA_ENV, ...env });
  const logger = createLogger({
    level: config.logLevel,
    fields: { service: config.service, stage: config.stage },
    write,
  });
  return createApi({
    config,
    db: unreachableDb(),
    logger,
    // As functions/api.ts: each invocation logs through a child carrying its request id, cold start and trace.
    logFields: invocationLogFields(config.traceHeader),
    knownMigrations: listMigrations(),
    // Never reached: the measured routes start no load test.
    starter: { start: () => Promise.reject(new Error('not used by the bench')) },
  });
}

async function timeIterations(
  handler: Handler,
  event: APIGatewayProxyEventV2,
  iterations: number,
): Promise<number> {
  const context = lambdaContext();
  const start = process.hrtime.bigint();
  for (let index = 1; index <= iterations; index += 1) {
    await handler(event, context);
    if (index % ITERATIONS_PER_MACROTASK === 0) await nextMacrotask();
  }
  return Number(process.hrtime.bigint() - start) / iterations;
}

/** Warms the handler up, then picks an iteration count that fits one round into the budget. */
async function warmUp(handler: Handler, event: APIGatewayProxyEventV2): Promise<number> {
  const deadline = performance.now() + WARMUP_MS;
  const batches: number[] = [];
  while (batches.length < 3 || performance.now() < deadline) {
    batches.push(await timeIterations(handler, event, WARMUP_BATCH));
  }
  const fitting = Math.round((ROUND_BUDGET_MS * 1e6) / median(batches.slice(batches.length >> 1)));
  return Math.min(MAX_ITERATIONS, Math.max(MIN_ITERATIONS, fitting));
}

/** Fails loudly when a handler does not answer as the case assumes, so no figure measures the wrong path. */
async function verify(definition: CaseDefinition, handler: Handler, expectCors: boolean): Promise<void> {
  const linesBefore = definition.logLines?.() ?? 0;
  const result = await handler(definition.event, lambdaContext());
  const problems: string[] = [];
  if (result.statusCode !== definition.status) {
    problems.push(`status ${result.statusCode}, expected ${definition.status}`);
  }
  if (expectCors && result.headers?.['Access-Control-Allow-Origin'] !== BENCH_ORIGIN) {
    problems.push(`no Access-Control-Allow-Origin: ${BENCH_ORIGIN}`);
  }
  if (definition.logLines && definition.logLines() === linesBefore) problems.push('no log line written');
  if (problems.length > 0) throw new Error(`bench: ${definition.name}: ${problems.join('; ')}`);
}

async function planCase(definition: CaseDefinition): Promise<CasePlan> {
  await verify({ ...definition, status: 200, logLines: undefined }, anchorHandler, false);
  await verify(definition, definition.handler, true);
  return {
    definition,
    anchorIterations: await warmUp(anchorHandler, definition.event),
    loadwatchIterations: await warmUp(definition.handler, definition.event),
    anchorRounds: [],
    loadwatchRounds: [],
  };
}

async function runRound(plan: CasePlan, anchorFirst: boolean): Promise<void> {
  const { event, handler } = plan.definition;
  const timeAnchor = async () => {
    plan.anchorRounds.push(await timeIterations(anchorHandler, event, plan.anchorIterations));
  };
  if (anchorFirst) await timeAnchor();
  plan.loadwatchRounds.push(await timeIterations(handler, event, plan.loadwatchIterations));
  if (!anchorFirst) await timeAnchor();
}

function summarize(plan: CasePlan): OverheadCase {
  const anchorNs = median(plan.anchorRounds);
  const loadwatchNs = median(plan.loadwatchRounds);
  return {
    name: plan.definition.name,
    status: plan.definition.status,
    anchor: { nsPerOp: anchorNs, iterations: plan.anchorIterations, roundsNsPerOp: plan.anchorRounds },
    loadwatch: {
      nsPerOp: loadwatchNs,
      iterations: plan.loadwatchIterations,
      roundsNsPerOp: plan.loadwatchRounds,
    },
    overheadMicroseconds: (loadwatchNs - anchorNs) / 1_000,
    ratio: loadwatchNs / anchorNs,
  };
}

export async function measureApiOverhead(): Promise<ApiOverheadResult> {
  const discard = () => {};
  const silent = createLoadwatchHandler(discard);
  const unlogged = createLoadwatchHandler(discard, { LOG_LEVEL: 'warn' });
  // Synchronous, as process.stdout.write is when stdout is a file or pipe: a stream would only queue
  // the lines in memory while the loop keeps the event loop busy.
  const devNull = openSync('/dev/null', 'w');
  let linesWritten = 0;
  const logging = createLoadwatchHandler((line) => {
    linesWritten += 1;
    writeSync(devNull, `${line}\n`);
  });
  const definitions: CaseDefinition[] = [
    { name: 'GET /health', event: healthEvent(), status: 200, handler: silent },
    {
      name: 'GET /health, log line to /dev/null',
      event: healthEvent(),
      status: 200,
      handler: logging,
      logLines: () => linesWritten,
    },
    {
      name: 'GET /health, LOG_LEVEL=warn (no log line)',
      event: healthEvent(),
      status: 200,
      handler: unlogged,
    },
    { name: 'OPTIONS /health (preflight)', event: preflightEvent(), status: 204, handler: silent },
    { name: 'GET /no-such-route (404)', event: notFoundEvent(), status: 404, handler: silent },
  ];
  try {
    // Every case is warmed up before any is timed and each round visits every case, so the shared code
    // sees mixed traffic, as a container does, and no case gains from running first.
    const plans: CasePlan[] = [];
    for (const definition of definitions) plans.push(await planCase(definition));
    for (let round = 0; round < ROUNDS; round += 1) {
      // Alternate the order so that neither handler always runs right after the other's garbage.
      for (const plan of plans) await runRound(plan, round % 2 === 0);
    }
    return { rounds: ROUNDS, cases: plans.map(summarize) };
  } finally {
    closeSync(devNull);
  }
}

export function apiOverheadTable(result: ApiOverheadResult): Table {
  const iterations = result.cases.map((entry) => entry.loadwatch.iterations);
  return {
    title: 'API per-request overhead (in process; median ns/op over rounds)',
    columns: ['request', 'anchor', 'loadwatch', 'overhead', 'ratio'],
    rows: result.cases.map((entry) => [
      entry.name,
      formatNanoseconds(entry.anchor.nsPerOp),
      formatNanoseconds(entry.loadwatch.nsPerOp),
      `${entry.overheadMicroseconds.toFixed(2)} µs`,
      formatRatio(entry.ratio),
    ]),
    notes: [
      'anchor: a bare async handler returning a fixed JSON 200 for the same event (bench/anchors/bare-handler.ts)',
      'loadwatch: createApi() as functions/api.ts assembles it; allowed Origin, Lambda context;',
      '  log lines are built but discarded unless the row says otherwise',
      `${result.rounds} rounds after a ${WARMUP_MS} ms warm-up; loadwatch ` +
        `${Math.min(...iterations).toLocaleString('en-US')}-${Math.max(...iterations).toLocaleString('en-US')} ` +
        'iterations a round, anchor up to ' +
        `${MAX_ITERATIONS.toLocaleString('en-US')}`,
    ],
  };
}
