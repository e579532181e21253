// /v1/loadtests: start (authenticated), list, read and abort load-test runs.

import * as v from 'valibot';
import { verifyToken } from '../auth/tokens.ts';
import type { Runtime } from '../config/config.ts';
import type { Db } from '../db/pool.ts';
import { HttpError } from '../http/errors.ts';
import { IMMUTABLE } from '../http/middleware/caching.ts';
import { choiceParameter, parseQuery, timeParameter, wholeNumberParameter } from '../http/query.ts';
import type { ApiRequest, Route } from '../http/router.ts';
import type { CapacityCheck } from '../loadtest/capacity.ts';
import { type ExecutionStarter, isFinished, launchLoadTest, runSummary } from '../loadtest/launcher.ts';
import type { LoadTestLimits } from '../loadtest/limits.ts';
import type { LoadTestStore } from '../loadtest/store.ts';

export interface LoadTestApiDeps {
  db: Db;
  loadTests: LoadTestStore;
  limits: LoadTestLimits;
  /** The service's own public API from configuration (API_URL), when set. */
  apiUrl: string | undefined;
  /** API Gateway serves https; the local adapter serves plain http. */
  runtime: Runtime;
  /** Starts executions: Step Functions on AWS, the in-process state machine locally. */
  starter: ExecutionStarter;
  /** The Lambda concurrency preflight; unset locally. */
  capacity?: CapacityCheck;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const unauthorized = () =>
  new HttpError(
    401,
    'UNAUTHORIZED',
    'authentication required: send "Authorization: Bearer <token>" or sign with IAM',
    {
      headers: { 'WWW-Authenticate': 'Bearer realm="loadwatch"' },
    },
  );

/** IAM-signed requests arrive already verified by API Gateway; otherwise a bearer token must match. */
export async function authenticate(request: ApiRequest, db: Db): Promise<string> {
  if (request.principal) return request.principal;
  const match = request.headers.authorization?.match(/^Bearer\s+(\S+)$/i);
  if (!match?.[1]) throw unauthorized();
  const name = await verifyToken(db, match[1]);
  if (!name) throw unauthorized();
  return `token:${name}`;
}

/**
 * The service's own API, the default target and always allowed: API_URL, else the domain in the event's
 * requestContext. Never a request header (Host, X-Forwarded-*, Forwarded): a client sets those at will, and
 * whatever it names would join the allowlist.
 */
export function ownOrigin(
  request: Pick<ApiRequest, 'domainName'>,
  deps: Pick<LoadTestApiDeps, 'apiUrl' | 'runtime'>,
): string | undefined {
  if (deps.apiUrl) return deps.apiUrl;
  if (!request.domainName) return undefined;
  const scheme = deps.runtime === 'lambda' ? 'https' : 'http';
  const url = URL.parse(`${scheme}://${request.domainName}`);
  return url ? `${url.protocol}//${url.host}` : undefined;
}

function runId(request: ApiRequest): string {
  const id = request.params.id ?? '';
  if (!UUID.test(id)) throw new HttpError(404, 'NOT_FOUND', `no load test ${id}`);
  return id;
}

/** A finished run's answers never change again: cached for good (ETag and 304 come with every read). */
const finishedRunHeaders = (run: { status: string }): Record<string, string> =>
  run.status === 'pending' || run.status === 'running' ? {} : { 'Cache-Control': IMMUTABLE };

const LIST_QUERY = v.object({
  limit: wholeNumberParameter({ fallback: 20, min: 1, max: 100 }),
  before: timeParameter(),
});
const RUN_QUERY = v.object({ view: choiceParameter(['summary', 'report', 'live'], 'report') });

export function loadTestRoutes<Deps extends { loadTestApi: LoadTestApiDeps }>(): Route<Deps>[] {
  return [
    {
      method: 'POST',
      path: '/v1/loadtests',
      handler: async (request, { loadTestApi }) => {
        const principal = await authenticate(request, loadTestApi.db);
        const own = ownOrigin(request, loadTestApi);
        const limits = own
          ? { ...loadTestApi.limits, allowedHosts: [...loadTestApi.limits.allowedHosts, new URL(own).host] }
          : loadTestApi.limits;
        if (request.body === undefined || typeof request.body !== 'object') {
          throw new HttpError(400, 'BAD_REQUEST', 'send a JSON object such as {"users":10,"requests":10}');
        }
        const run = await launchLoadTest(request.body, {
          store: loadTestApi.loadTests,
          limits,
          starter: loadTestApi.starter,
          defaultTarget: own,
          capacity: loadTestApi.capacity,
        });
        return {
          status: 202,
          headers: { Location: `/v1/loadtests/${run.runId}` },
          body: {
            runId: run.runId,
            status: 'running',
            startedBy: principal,
            estimate: run.plan.estimate,
            capacity: run.capacity,
            report: `/v1/loadtests/${run.runId}`,
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/loadtests',
      handler: async (request, { loadTestApi }) => {
        const { limit, before } = parseQuery(request, LIST_QUERY);
        return {
          status: 200,
          body: { runs: await loadTestApi.loadTests.listRuns(limit, before?.toISOString()) },
        };
      },
    },
    {
      method: 'GET',
      path: '/v1/loadtests/{id}',
      handler: async (request, { loadTestApi }) => {
        const { view } = parseQuery(request, RUN_QUERY);
        const run = await loadTestApi.loadTests.getRun(runId(request));
        if (!run) throw new HttpError(404, 'NOT_FOUND', `no load test ${request.params.id}`);
        // The figures so far, as merged from the shards' snapshots by the shard whose turn it was (or, once
        // finished, by the Aggregate step): one row read, however many shards.
        const body =
          view === 'live'
            ? { runId: run.id, status: run.status, live: run.live }
            : view === 'summary' || !run.report
              ? runSummary(run, `/v1/loadtests/${run.id}`)
              : { runId: run.id, status: run.status, error: run.error, report: run.report };
        return { status: 200, headers: finishedRunHeaders(run), body };
      },
    },
    {
      method: 'GET',
      path: '/v1/loadtests/{id}/report.html',
      handler: async (request, { loadTestApi }) => {
        const run = await loadTestApi.loadTests.getRun(runId(request));
        if (!run) throw new HttpError(404, 'NOT_FOUND', `no load test ${request.params.id}`);
        const headers = {
          ...finishedRunHeaders(run),
          'Content-Type': 'text/html; charset=utf-8',
          'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        };
        if (!run.report) {
          if (isFinished(run))
            throw new HttpError(409, 'NO_REPORT', `load test ${run.id} ended ${run.status} without a report`);
          // A running run: its figures so far, on a page that reloads itself until the report is there.
          const { renderLivePage } = await import('../loadtest/html-live.ts');
          return { status: 200, headers, body: renderLivePage(run) };
        }
        // esbuild bundles the renderer into the API all the same; importing it here only defers its evaluation.
        const { renderHtmlReport } = await import('../loadtest/html-report.ts');
        return { status: 200, headers, body: renderHtmlReport(run.report) };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/loadtests/{id}',
      handler: async (request, { loadTestApi }) => {
        await authenticate(request, loadTestApi.db);
        const id = runId(request);
        const stopped = await loadTestApi.loadTests.requestAbort(id);
        if (!stopped) {
          // Nothing to abort: a run that never existed is 404, one that already finished is 409.
          if (!(await loadTestApi.loadTests.getRun(id)))
            throw new HttpError(404, 'NOT_FOUND', `no load test ${id}`);
          throw new HttpError(409, 'NOT_RUNNING', `load test ${id} is not running`);
        }
        // A run whose process is gone is finished at once ("aborted"); a live one stops shortly ("aborting").
        return { status: stopped === 'aborted' ? 200 : 202, body: { runId: id, status: stopped } };
      },
    },
  ];
}
