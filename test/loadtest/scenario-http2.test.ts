// Scenarios over HTTP/2: the demo shop behind an h2c server and a TLS h2 one, its captures, checks and templates
// read from HTTP/2 responses, and every step seen by the server as an HTTP/2 stream.

import { createServer as createH2cServer, createSecureServer, type Http2ServerRequest } from 'node:http2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runShard, type ShardWork } from '../../lib/loadtest/engine.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { createDemoShop, type DemoShop } from '../../lib/local/demo-shop.ts';
import { parseScenario } from '../../lib/scenario/schema.ts';
import { createTestCertificates } from '../support/certificates.ts';
import { listenLocally } from '../support/listen.ts';
import { reportOf } from '../support/report.ts';
import { loginScenario } from '../support/shop-scenarios.ts';

/**
 * The shop's login flow, its session header also checked on the login and sent on in the orders' query: a
 * capture of a JSON value and of a header, carried into a header and a path template.
 */
function http2Flow() {
  const flow = loginScenario();
  const [login, orders] = flow.flows[0]?.steps ?? [];
  if (!login || !orders) throw new Error('the login flow has two steps');
  login.checks.push({ header: 'x-session', matches: '^s-user-' } as never);
  orders.path = '/orders?for={{ session }}';
  return flow;
}
const flow = http2Flow();

describe('scenarios over HTTP/2', () => {
  let shop: DemoShop;
  /** Every request the HTTP/2 servers saw: its HTTP version and :path pseudo-header. */
  const seen: Array<{ version: string; path: string | undefined }> = [];
  const servers: Array<{ close: () => void }> = [];
  let h2c: string;
  let h2: string;
  let ca: string;

  beforeAll(async () => {
    shop = createDemoShop({ record: true });
    const forward = (request: Http2ServerRequest, response: unknown) => {
      seen.push({ version: request.httpVersion, path: request.headers[':path'] as string | undefined });
      shop.server.emit('request', request, response);
    };
    const certificates = createTestCertificates();
    ca = certificates.ca;
    const plain = createH2cServer(forward);
    const secure = createSecureServer(certificates.server, forward);
    servers.push(plain, secure);
    h2c = await listenLocally(plain as never);
    h2 = (await listenLocally(secure as never)).replace('http:', 'https:');
  });
  beforeEach(() => {
    shop.reset();
    seen.length = 0;
  });
  afterAll(() => {
    for (const server of servers) server.close();
  });

  const work = (target: string, overrides: Partial<ShardWork> = {}): ShardWork => ({
    target,
    endpoints: [],
    scenario: parseScenario(flow),
    timeoutMs: 5000,
    runStartedAt: Date.now(),
    deadline: Date.now() + 30_000,
    load: { model: 'closed', requestsPerUser: [3, 3], thinkTimeMs: 0 },
    ...overrides,
  });

  it('accepts a scenario with http2 in the load-test input', () => {
    const options = parseLoadTestInput({ target: h2c, scenario: flow, http2: true, users: 2, requests: 3 });
    expect(options.connection).toMatchObject({ http2: true });
  });

  it('captures a JSON value and a header over h2c, and sends them on in a header and a query template', async () => {
    const result = await runShard(work(h2c, { connection: { http2: true, insecure: false } }));
    expect(seen).toHaveLength(12);
    expect(seen.every((request) => request.version === '2.0')).toBe(true);
    expect(seen.filter((request) => request.path === '/login')).toHaveLength(6);
    // Each order's :path carries the session header its login answered; each carries the token it issued.
    const orders = seen.filter((request) => request.path?.startsWith('/orders'));
    expect(orders.map((request) => request.path).sort()).toEqual(
      ['/orders?for=s-user-1', '/orders?for=s-user-2'].flatMap((path) => [path, path, path]),
    );
    expect(shop.seen.orders.every((order) => order.status === 200)).toBe(true);
    expect(new Set(shop.seen.orders.map((order) => order.authorization)).size).toBe(6);
    expect(result.iterations).toEqual({ started: 6, completed: 6, failed: 0, failedBecause: {} });
    const report = reportOf({ target: h2c, scenario: flow, users: 2, requests: 3 }, [result]);
    expect(report.checks).toEqual([
      { step: 'login', name: 'status 200', passed: 6, failed: 0 },
      { step: 'login', name: 'header x-session matches ^s-user-', passed: 6, failed: 0 },
      { step: 'orders', name: 'status 200', passed: 6, failed: 0 },
      { step: 'orders', name: '$.orders[0].id == 7', passed: 6, failed: 0 },
      { step: 'orders', name: 'fast', passed: 6, failed: 0 },
    ]);
  });

  it('runs the same flow over TLS with h2 negotiated, and counts a failing check per name', async () => {
    const failing = structuredClone(flow);
    const orders = failing.flows[0]?.steps[1];
    if (!orders) throw new Error('no orders step');
    orders.checks = [{ status: 200 }, { json: '$.orders[0].id', equals: 8 }] as never;
    const result = await runShard(
      work(h2, { scenario: parseScenario(failing), connection: { http2: true, insecure: false, ca } }),
    );
    expect(seen).toHaveLength(12);
    expect(seen.every((request) => request.version === '2.0')).toBe(true);
    const report = reportOf({ target: h2, scenario: failing, users: 2, requests: 3 }, [result]);
    expect(report.checks.filter((check) => check.step === 'orders')).toEqual([
      { step: 'orders', name: 'status 200', passed: 6, failed: 0 },
      { step: 'orders', name: '$.orders[0].id == 8', passed: 0, failed: 6 },
    ]);
    expect(report.steps.map(({ name, ok }) => ({ name, ok }))).toEqual([
      { name: 'login', ok: 6 },
      { name: 'orders', ok: 6 },
    ]);
  });
});
