import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CheckDefinition, parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { runCycle } from '../../lib/monitor/cycle.ts';
import { probe } from '../../lib/monitor/probe.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { issueTestCertificate, type TestCertificate } from '../support/certificates.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.ts';
import { listenLocally } from '../support/listen.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

const BASE = 'http://127.0.0.1:1';
const RULES = {
  down: { consecutive: 1 },
  degradedCycles: 1,
  recoveryCycles: 1,
  reminderMinutes: 0,
  errorRate: null,
};

function checksOf(checks: unknown[]): CheckDefinition[] {
  return parseMonitorDefinition({ checks }, BASE, 'test').checks;
}
const one = (check: Record<string, unknown>) => checksOf([check])[0] as CheckDefinition;

async function listenTls(server: TlsServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the TLS server did not bind');
  return address.port;
}

describe('tls checks against a TLS server on 127.0.0.1', () => {
  let certificate: TestCertificate;
  let server: TlsServer;
  let port: number;
  beforeAll(async () => {
    // Expires in 5 days: under the warn threshold of 14, over the critical one of 3.
    certificate = issueTestCertificate(5);
    server = createTlsServer({ key: certificate.key, cert: certificate.cert }, (socket) => socket.end());
    port = await listenTls(server);
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    certificate?.remove();
  });

  const tlsCheck = (extra: Record<string, unknown> = {}) =>
    one({
      name: 'cert',
      kind: 'tls',
      host: '127.0.0.1',
      port,
      caFile: certificate.caFile,
      timeout: 2000,
      ...extra,
    });

  it('passes with a warning when the certificate expires in 5 days, naming its issuer and names', async () => {
    const sample = await probe(tlsCheck({ days: { warn: 14, critical: 3 } }));
    expect(sample).toMatchObject({ ok: true, error: null });
    expect(sample.warning).toMatch(/^the certificate expires in 4\.9 days \(warn under 14\)$/);
    expect(sample.details).toMatchObject({
      issuer: 'loadwatch test CA',
      subject: 'localhost',
      names: ['localhost', '127.0.0.1'],
      authorized: true,
      daysLeft: 4.9,
    });
    expect(sample.latencyMs).toBeGreaterThan(0);
  });

  it('fails when the days left are under the critical threshold', async () => {
    const sample = await probe(tlsCheck());
    expect(sample.ok).toBe(false);
    expect(sample.error).toMatch(/^the certificate expires in 4\.9 days \(critical under 7\)$/);
  });

  it('fails naming the reason when the certificate is not trusted or not for the name asked', async () => {
    const untrusted = await probe(tlsCheck({ caFile: undefined, days: { warn: 1, critical: 0 } }));
    expect(untrusted.ok).toBe(false);
    expect(untrusted.error).toContain('the certificate is not trusted (');
    // The sample still says whose certificate it was.
    expect(untrusted.details).toMatchObject({ issuer: 'loadwatch test CA', authorized: false });
    const misnamed = await probe(tlsCheck({ servername: 'api.example.com', days: { warn: 1, critical: 0 } }));
    expect(misnamed.error).toBe('the certificate is for localhost, 127.0.0.1, not api.example.com');
  });

  it('names its target tls://host:port, the host whose load tests hold its alerts', () => {
    expect(tlsCheck()).toMatchObject({
      kind: 'tls',
      url: `tls://127.0.0.1:${port}`,
      holdHost: `127.0.0.1:${port}`,
    });
  });
});

describe('tcp and dns checks', () => {
  let tcp: TcpServer;
  let tcpPort: number;
  let dns: TestDnsServer;
  beforeAll(async () => {
    tcp = createTcpServer((socket) => socket.end());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    tcpPort = (tcp.address() as { port: number }).port;
    dns = await startDnsServer({ 'api.loadwatch.test': ['192.0.2.10', '192.0.2.11'] });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => tcp?.close(() => resolve()));
    await dns?.close();
  });

  it('passes a tcp check with its connect time, and names a refused connection', async () => {
    const open = await probe(
      one({ name: 'pg', kind: 'tcp', host: '127.0.0.1', port: tcpPort, timeout: 1000 }),
    );
    expect(open).toMatchObject({ ok: true, error: null, status: null });
    expect(open.latencyMs).toBeGreaterThan(0);
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await probe(
      one({ name: 'pg', kind: 'tcp', host: '127.0.0.1', port: closedPort, timeout: 1000 }),
    );
    expect(refused).toMatchObject({ ok: false, error: 'ECONNREFUSED', latencyMs: null });
  });

  it('fails a tls check with a timeout, within its deadline, when the handshake never ends', async () => {
    // A plain TCP listener accepts the connection and never answers the ClientHello.
    const silent = createTcpServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = performance.now();
      const sample = await probe(one({ name: 'tls', kind: 'tls', host: '127.0.0.1', port, timeout: 300 }));
      expect(sample).toMatchObject({ ok: false, error: 'timeout', latencyMs: null });
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      silent.close();
    }
  });

  const dnsCheck = (extra: Record<string, unknown> = {}) =>
    one({
      name: 'dns',
      kind: 'dns',
      host: 'api.loadwatch.test',
      servers: [dns.address],
      timeout: 1000,
      ...extra,
    });

  it('passes a dns check that resolves, and fails one whose answer holds an address not expected', async () => {
    const resolved = await probe(dnsCheck());
    expect(resolved).toMatchObject({ ok: true, details: { addresses: ['192.0.2.10', '192.0.2.11'] } });
    const expected = await probe(dnsCheck({ expect: ['192.0.2.10', '192.0.2.11', '192.0.2.12'] }));
    expect(expected.ok).toBe(true);
    dns.set('api.loadwatch.test', ['192.0.2.10', '203.0.113.5']);
    const moved = await probe(dnsCheck({ expect: ['192.0.2.10', '192.0.2.11'] }));
    expect(moved).toMatchObject({
      ok: false,
      error: 'api.loadwatch.test resolves to 192.0.2.10, 203.0.113.5, expected 192.0.2.10 or 192.0.2.11',
    });
  });

  it('fails a dns check for a name that does not exist', async () => {
    const missing = await probe(dnsCheck({ host: 'gone.loadwatch.test' }));
    expect(missing).toMatchObject({ ok: false, error: 'ENOTFOUND' });
    expect(dns.queries()).toBeGreaterThan(0);
  });
});

describe('kinds of check through monitor cycles', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let store: MonitorStore;
  let sink: RecordingSink;
  let clock: Date;
  let api: Server;
  let apiUrl: string;
  let answer: Record<string, unknown>;
  let certificate: TestCertificate;
  let tls: TlsServer;
  let tlsPort: number;

  beforeAll(async () => {
    store = new MonitorStore(postgres.db);
    api = createHttpServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify(answer));
    });
    apiUrl = await listenLocally(api);
    certificate = issueTestCertificate(5);
    tls = createTlsServer({ key: certificate.key, cert: certificate.cert }, (socket) => socket.end());
    tlsPort = await listenTls(tls);
  });
  beforeEach(async () => {
    await postgres.database.admin(
      'TRUNCATE monitor_samples, monitor_check_states, monitor_incidents, alert_outbox',
    );
    sink = new RecordingSink();
    clock = new Date();
    answer = { status: 'ok', release: { version: 'v2.4.1' } };
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => api?.close(() => resolve()));
    await new Promise<void>((resolve) => tls?.close(() => resolve()));
    certificate?.remove();
  });

  const cycle = async (checks: unknown[]) => {
    clock = new Date(clock.getTime() + 60_000);
    return runCycle(
      parseMonitorDefinition({ checks }, apiUrl, 'test', false, 60),
      testMonitorDeps(store, sink, () => clock),
    );
  };

  it('names the assertion that failed in the sample and the alert when a JSON field changes', async () => {
    const orders = {
      name: 'orders',
      endpoint: '/v1/orders',
      timeout: 2000,
      rules: RULES,
      assert: [
        { header: 'content-type', matches: '^application/json' },
        { json: '$.status', equals: 'ok' },
        { json: '$.release.version', matches: '^v2\\.' },
      ],
    };
    const healthy = await cycle([orders]);
    expect(healthy.samples[0]).toMatchObject({ ok: true, error: null });
    answer = { status: 'degraded', release: { version: 'v3.0.0' } };
    const changed = await cycle([orders]);
    expect(changed.samples[0]?.error).toBe(
      'assert[1] json $.status: is "degraded", expected "ok"; assert[2] json $.release.version: is "v3.0.0", expected to match /^v2\\./',
    );
    expect(sink.delivered.map((item) => item.subject)).toEqual(['[ALARM] loadwatch/test: orders is down']);
    expect(sink.delivered[0]?.message).toContain('assert[1] json $.status: is "degraded", expected "ok"');
    answer = { status: 'ok', release: { version: 'v2.5.0' } };
    await cycle([orders]);
    expect(sink.delivered.map((item) => item.subject)).toEqual([
      '[ALARM] loadwatch/test: orders is down',
      '[OK] loadwatch/test: orders recovered after 1m',
    ]);
  });

  it('raises a warning for a certificate inside its warn threshold, naming the days left', async () => {
    const cert = {
      name: 'cert',
      kind: 'tls',
      host: '127.0.0.1',
      port: tlsPort,
      caFile: certificate.caFile,
      days: { warn: 14, critical: 3 },
      timeout: 2000,
      rules: RULES,
    };
    const result = await cycle([cert]);
    expect(result.samples[0]).toMatchObject({ ok: true });
    expect(sink.delivered.map((item) => [item.subject, item.severity])).toEqual([
      ['[ALARM] loadwatch/test: cert is degraded', 'warning'],
    ]);
    expect(sink.delivered[0]?.message).toMatch(
      /degraded: the certificate expires in 4\.9 days \(warn under 14\)/,
    );
    const stored = await postgres.database.admin<{ warning: string | null }>(
      'SELECT warning FROM monitor_samples',
    );
    expect(stored.rows[0]?.warning).toMatch(/^the certificate expires in 4\.9 days/);
  });

  it('probes a check with its own interval only when it is due, and the others every cycle', async () => {
    const checks = [
      { name: 'every', endpoint: '/a', timeout: 1000 },
      { name: 'sparse', endpoint: '/b', timeout: 1000, interval: 180 },
    ];
    const probed: string[][] = [];
    for (let index = 0; index < 6; index++)
      probed.push((await cycle(checks)).samples.map((sample) => sample.name));
    expect(probed).toEqual([
      ['every', 'sparse'],
      ['every'],
      ['every'],
      ['every', 'sparse'],
      ['every'],
      ['every'],
    ]);
    const states = await store.checkStates(clock);
    expect(states.find((state) => state.check === 'sparse')).toMatchObject({
      intervalSeconds: 180,
      stale: false,
    });
  });
});
