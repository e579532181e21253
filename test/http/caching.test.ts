import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noneMatch, strongEtag } from '../../lib/http/middleware/caching.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { planLoadTest } from '../../lib/loadtest/plan.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { reportOf } from '../support/report.ts';
import { syntheticShard } from '../support/synthetic-shards.ts';

const ALLOWED = 'https://app.example.com';
const OTHER_ALLOWED = 'http://localhost:5173';

describe('caching over HTTP', () => {
  const postgres = useMigratedDatabase();
  let api: RunningApi;
  let finishedId: string;
  let runningId: string;

  beforeAll(async () => {
    api = await startApiServer({
      DATABASE_URL: postgres.database.url,
      CORS_ORIGINS: `${ALLOWED},${OTHER_ALLOWED}`,
    });
    const store = new LoadTestStore(api.db);
    const input = { target: 'http://127.0.0.1:9/', rate: 10, duration: '10s' };
    const options = parseLoadTestInput(input);
    const plan = planLoadTest(options, DEFAULT_LIMITS);
    finishedId = randomUUID();
    runningId = randomUUID();
    await store.createRun(finishedId, options, plan);
    const shard = syntheticShard({ seed: 3, fromSecond: 0, seconds: 10, requestsPerSecond: 10 }).result;
    await store.finish(finishedId, 'passed', reportOf(input, [shard]));
    await store.createRun(runningId, options, plan);
    await store.markStarted(runningId);
    await postgres.database.admin(
      `INSERT INTO monitor_check_states (check_name, interval_seconds) VALUES ('api-health', 60), ('api-ready', 10)`,
    );
  });
  afterAll(async () => {
    await api?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${api.url}${path}`, { headers: { origin: ALLOWED, ...headers } });

  it('serves a finished report as immutable and private, with a strong ETag, and answers a match with 304', async () => {
    for (const path of [`/v1/loadtests/${finishedId}`, `/v1/loadtests/${finishedId}/report.html`]) {
      const first = await get(path);
      expect(first.status).toBe(200);
      const body = await first.text();
      expect(first.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
      expect(first.headers.get('etag')).toBe(strongEtag(body));
      expect(first.headers.get('vary')).toMatch(/\bOrigin\b/);

      const again = await get(path, { 'if-none-match': first.headers.get('etag') ?? '' });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe('');
      expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(again.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
      expect(again.headers.get('access-control-allow-origin')).toBe(ALLOWED);
      expect(again.headers.get('vary')).toMatch(/\bOrigin\b/);
    }
  });

  it('lets a run in progress be reused only after revalidation, and answers 200 with a new tag once it ends', async () => {
    const first = await get(`/v1/loadtests/${runningId}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    expect((await get(`/v1/loadtests/${runningId}`, { 'if-none-match': `W/${etag}` })).status).toBe(304);
    await postgres.database.admin(
      `UPDATE loadtest_runs SET status = 'aborted', finished_at = now() WHERE id = $1`,
      [runningId],
    );
    const changed = await get(`/v1/loadtests/${runningId}`, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    // Finished now: from here on it is cached for good.
    expect(changed.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
  });

  it('answers list reads with 304 on a matching tag and 200 with a new tag once the list changes', async () => {
    const first = await get('/v1/loadtests');
    const etag = first.headers.get('etag') ?? '';
    expect(first.headers.get('cache-control')).toBe('private, no-cache');
    expect((await get('/v1/loadtests', { 'if-none-match': `"other", ${etag}` })).status).toBe(304);
    expect((await get('/v1/loadtests', { 'if-none-match': '*' })).status).toBe(304);
    expect((await get('/v1/alerts', { 'if-none-match': etag })).status).toBe(200);
    await postgres.database.admin(
      `INSERT INTO loadtest_runs (id, status, target, options) VALUES ($1, 'failed', 'http://127.0.0.1:9/', '{}')`,
      [randomUUID()],
    );
    const changed = await get('/v1/loadtests', { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  it('gives the check list and the status page a max-age of half the shortest monitor interval', async () => {
    const checks = await get('/v1/checks');
    expect(checks.status).toBe(200);
    expect(checks.headers.get('cache-control')).toBe('private, max-age=5');
    const status = await get('/status');
    expect(status.status).toBe(200);
    expect(status.headers.get('cache-control')).toBe('public, max-age=5');
    expect(status.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('never marks a response to an authenticated request public, and varies it on Authorization', async () => {
    const status = await get('/status', { authorization: 'Bearer not-needed-here' });
    expect(status.status).toBe(200);
    expect(status.headers.get('cache-control')).toBe('private, max-age=5');
    expect(status.headers.get('vary')).toMatch(/\bAuthorization\b/);
    expect(status.headers.get('vary')).toMatch(/\bOrigin\b/);
    const report = await get(`/v1/loadtests/${finishedId}`, { authorization: 'Bearer x' });
    expect(report.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(report.headers.get('vary')).toMatch(/\bAuthorization\b/);
  });

  it('keeps each origin its own CORS answer on a 304, and none for an origin it refuses', async () => {
    const path = `/v1/loadtests/${finishedId}`;
    const etag = (await get(path)).headers.get('etag') ?? '';
    const other = await get(path, { origin: OTHER_ALLOWED, 'if-none-match': etag });
    expect(other.status).toBe(304);
    expect(other.headers.get('access-control-allow-origin')).toBe(OTHER_ALLOWED);
    const refused = await get(path, { origin: 'https://evil.example.net', 'if-none-match': etag });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(refused.headers.get('vary')).toMatch(/\bOrigin\b/);
  });

  it('sends no validator and no-store with errors, writes and health probes', async () => {
    const missing = await get(`/v1/loadtests/${randomUUID()}`, { 'if-none-match': '*' });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('etag')).toBeNull();
    expect(missing.headers.get('cache-control')).toBe('no-store');
    const health = await get('/health/ready');
    expect(health.status).toBe(200);
    expect(health.headers.get('cache-control')).toBe('no-store');
    expect(health.headers.get('etag')).toBeNull();
    const post = await fetch(`${api.url}/v1/loadtests`, { method: 'POST', headers: { origin: ALLOWED } });
    expect(post.status).toBe(401);
    expect(post.headers.get('cache-control')).toBe('no-store');
  });
});

describe('noneMatch', () => {
  it('compares tags weakly, in a list or as *', () => {
    expect(noneMatch('"a"', '"a"')).toBe(true);
    expect(noneMatch('W/"a"', '"a"')).toBe(true);
    expect(noneMatch('"b", "a"', '"a"')).toBe(true);
    expect(noneMatch('*', '"a"')).toBe(true);
    expect(noneMatch('"b"', '"a"')).toBe(false);
    expect(noneMatch(undefined, '"a"')).toBe(false);
  });
});
