import { createServer, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { channelsFor } from '../../lib/alerts/channels.ts';
import type { Notification } from '../../lib/alerts/sink.ts';
import {
  createWebhookSink,
  IDEMPOTENCY_HEADER,
  SIGNATURE_HEADER,
  slackWebhookBody,
  TIMESTAMP_HEADER,
  webhookSignature,
} from '../../lib/alerts/webhook.ts';
import { alertChannels, parseWebhookSecret } from '../../lib/alerts/webhook-channels.ts';
import { parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { runCycle } from '../../lib/monitor/cycle.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { configProblems } from '../support/config.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';
import { listenLocally } from '../support/listen.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

const SIGNING_SECRET = 'receiver-shared-secret';

interface Received {
  key: string;
  body: string;
  accepted: boolean;
  signatureValid: boolean;
}

/** A webhook receiver on 127.0.0.1 that answers 503 while `failing`, and records every request. */
async function startReceiver() {
  const received: Received[] = [];
  let failing = false;
  const read = async (request: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const server = createServer(async (request, response) => {
    const body = await read(request);
    const timestamp = String(request.headers[TIMESTAMP_HEADER] ?? '');
    received.push({
      key: String(request.headers[IDEMPOTENCY_HEADER] ?? ''),
      body,
      accepted: !failing,
      signatureValid: request.headers[SIGNATURE_HEADER] === webhookSignature(SIGNING_SECRET, timestamp, body),
    });
    response.writeHead(failing ? 503 : 204).end(failing ? 'receiver overloaded' : undefined);
  });
  const url = await listenLocally(server);
  return {
    url: `${url}/hooks/loadwatch`,
    received,
    setFailing(value: boolean) {
      failing = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const notification = (overrides: Partial<Notification> = {}): Notification => ({
  subject: '[ALARM] loadwatch/test: api is down',
  message: 'api (http://x/health) is down.\n<script> & co',
  detail: { incidentId: 7 },
  severity: 'critical',
  deduplicationId: '7:raised',
  ...overrides,
});

describe('webhook sink', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());
  beforeEach(() => {
    receiver.received.length = 0;
    receiver.setFailing(false);
  });

  it('posts the generic JSON body with its idempotency key and an HMAC signature the receiver verifies', async () => {
    const sink = createWebhookSink({
      name: 'oncall',
      url: receiver.url,
      format: 'json',
      signingSecret: SIGNING_SECRET,
    });
    await sink.publish(notification());
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request?.key).toBe('7:raised');
    expect(request?.signatureValid).toBe(true);
    expect(JSON.parse(request?.body ?? '')).toMatchObject({
      id: '7:raised',
      subject: '[ALARM] loadwatch/test: api is down',
      severity: 'critical',
      detail: { incidentId: 7 },
    });
  });

  it('fails with the receiver status and body when the receiver refuses, and shows only the origin', async () => {
    receiver.setFailing(true);
    const sink = createWebhookSink({ name: 'team', url: receiver.url, format: 'slack' });
    await expect(sink.publish(notification())).rejects.toThrow(
      'webhook "team" answered 503: receiver overloaded',
    );
    expect(sink.description).toBe(`webhook "team" (slack, ${new URL(receiver.url).origin})`);
  });

  it('builds a Slack incoming-webhook body with the markup characters escaped', () => {
    const body = slackWebhookBody(notification());
    expect(body.text).toBe('[ALARM] loadwatch/test: api is down');
    expect(body.attachments).toEqual([
      expect.objectContaining({
        color: '#cf222e',
        text: 'api (http://x/health) is down.\n&lt;script&gt; &amp; co',
      }),
    ]);
  });

  it('routes an incident to the channels of its severity', () => {
    const channels = alertChannels(
      {
        snsSeverities: ['critical', 'warning'],
        webhooks: [{ name: 'pager', format: 'json', severities: ['critical'], url: receiver.url }],
        webhookSecretName: undefined,
      },
      new RecordingSink(),
    );
    expect(channelsFor(channels, 'critical')).toEqual(['sns', 'pager']);
    expect(channelsFor(channels, 'warning')).toEqual(['sns']);
  });

  it('names each wrong webhook setting, and the variable that is missing', () => {
    expect(
      configProblems({
        ALERT_WEBHOOKS: 'oncall:json:critical, Team:slack, pager:xml, audit:json:urgent',
        ALERT_SEVERITIES: 'critical+loud',
      }),
    ).toEqual([
      'ALERT_WEBHOOK_URL_ONCALL: is required for webhook "oncall" (or set ALERT_WEBHOOK_SECRET_NAME)',
      'ALERT_WEBHOOKS: "Team" is not a webhook name (1-32 lower-case letters, digits and "-", starting with a letter; not "sns")',
      'ALERT_WEBHOOKS: "pager:xml" is not name:format[:severities] with format json or slack',
      'ALERT_WEBHOOKS: "urgent" is not a severity (critical, warning, or all)',
      'ALERT_WEBHOOK_URL_AUDIT: is required for webhook "audit" (or set ALERT_WEBHOOK_SECRET_NAME)',
      'ALERT_SEVERITIES: "loud" is not a severity (critical, warning, or all)',
    ]);
    expect(
      configProblems({
        AWS_LAMBDA_FUNCTION_NAME: 'monitor',
        DATABASE_URL: 'postgres://u:p@db.internal:5432/x',
        ALERT_WEBHOOKS: 'oncall:json',
      }),
    ).toEqual([
      'ALERT_WEBHOOK_SECRET_NAME: is required on Lambda for webhook "oncall": its URL is a secret, not an environment variable',
    ]);
  });

  it('names every webhook the Secrets Manager secret lacks or holds wrong', () => {
    expect(() =>
      parseWebhookSecret('{"pager": {"url": "ftp://x"}}', 'loadwatch-prod-alert-webhooks', ['pager', 'team']),
    ).toThrow(
      expect.objectContaining({
        problems: [
          'loadwatch-prod-alert-webhooks: "pager".url is missing or not an http(s) URL',
          'loadwatch-prod-alert-webhooks: "team".url is missing or not an http(s) URL',
        ],
      }),
    );
    expect(
      parseWebhookSecret('{"pager": {"url": "https://hooks.example/a", "signingSecret": "s"}}', 'x', [
        'pager',
      ]),
    ).toEqual({ pager: { url: 'https://hooks.example/a', signingSecret: 's' } });
  });
});

describe('webhook channel through the outbox', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let store: MonitorStore;
  let target: FaultTarget;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    store = new MonitorStore(postgres.db);
    target = await startFaultTarget();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await target?.close();
    await receiver?.close();
  });

  /** One check against the fault target, SNS hearing every severity and a webhook `name` the critical ones. */
  const monitorOf = (check: Record<string, unknown>, webhook: string, startsAt: string) => {
    const definition = parseMonitorDefinition(
      { checks: [{ endpoint: '/health', ...check }] },
      target.url,
      'test',
    );
    const sns = new RecordingSink();
    const channels = alertChannels(
      {
        snsSeverities: ['critical', 'warning'],
        webhooks: [
          {
            name: webhook,
            format: 'json',
            severities: ['critical'],
            url: receiver.url,
            signingSecret: SIGNING_SECRET,
          },
        ],
        webhookSecretName: undefined,
      },
      sns,
    );
    let clock = new Date(startsAt);
    const deps = testMonitorDeps(store, sns, () => clock, { channels });
    /** One cycle, a minute after the last. */
    const cycle = async () => {
      clock = new Date(clock.getTime() + 60_000);
      return runCycle(definition, deps);
    };
    return { sns, cycle };
  };

  it('delivers every alert exactly once to a webhook that fails three cycles, then accepts', async () => {
    const { sns, cycle } = monitorOf(
      {
        name: 'api',
        timeout: 300,
        rules: { down: { consecutive: 2 }, recoveryCycles: 2, reminderMinutes: 3, errorRate: null },
      },
      'oncall',
      '2026-02-01T00:00:00Z',
    );
    await target.set('error');
    receiver.setFailing(true);
    // Down from the second cycle: the alarm is queued there and the receiver refuses it for three cycles.
    for (let index = 0; index < 4; index++) await cycle();
    // Tried in minutes 2, 3 and 4 (put off by 30 s, then 60 s), refused each time.
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received.every((request) => !request.accepted)).toBe(true);
    receiver.setFailing(false);
    // A reminder comes due, then the target recovers: the backlog goes out in order, once each, over the next cycles.
    for (let index = 0; index < 2; index++) await cycle();
    await target.set('healthy');
    for (let index = 0; index < 12; index++) await cycle();

    const accepted = receiver.received.filter((request) => request.accepted);
    const keys = accepted.map((request) => request.key);
    expect(keys).toEqual(['1:raised', '1:reminder:1', '1:resolved']);
    expect(accepted.every((request) => request.signatureValid)).toBe(true);
    expect(accepted.map((request) => JSON.parse(request.body).subject)).toEqual([
      '[ALARM] loadwatch/test: api is down',
      '[REMINDER] loadwatch/test: api still in alarm for 3m',
      expect.stringMatching(/^\[OK\] loadwatch\/test: api recovered after/),
    ]);
    // Every request after its acceptance would be a duplicate: none came.
    for (const key of keys) {
      const requests = receiver.received.filter((request) => request.key === key);
      expect(requests.at(-1)?.accepted, key).toBe(true);
      expect(
        requests.filter((request) => request.accepted),
        key,
      ).toHaveLength(1);
    }
    // SNS, never failing, got the same messages without waiting for the webhook.
    expect(sns.delivered.map((item) => item.deduplicationId)).toEqual([
      '1:raised',
      '1:reminder:1',
      '1:resolved',
    ]);
    const outbox = await postgres.database.admin<{ channel: string; sent: boolean }>(
      'SELECT channel, bool_and(sent_at IS NOT NULL) AS sent FROM alert_outbox GROUP BY channel ORDER BY channel',
    );
    expect(outbox.rows).toEqual([
      { channel: 'oncall', sent: true },
      { channel: 'sns', sent: true },
    ]);
  });

  it('sends a channel of critical incidents neither a warning incident nor its recovery', async () => {
    const { sns, cycle } = monitorOf(
      {
        name: 'search',
        timeout: 1000,
        latency: { warn: 50, critical: 900 },
        rules: { degradedCycles: 2, recoveryCycles: 1, errorRate: null },
      },
      'pager',
      '2026-03-01T00:00:00Z',
    );
    const receivedBefore = receiver.received.length;
    // Slower than its warn latency for two cycles: degraded, a warning; then fast again: recovered.
    await target.set('slow', 120);
    for (let index = 0; index < 3; index++) await cycle();
    await target.set('healthy');
    for (let index = 0; index < 3; index++) await cycle();
    expect(sns.delivered.map((item) => item.subject)).toEqual([
      '[ALARM] loadwatch/test: search is degraded',
      expect.stringMatching(/^\[OK\] loadwatch\/test: search recovered/),
    ]);
    expect(receiver.received.slice(receivedBefore)).toEqual([]);
    const pager = await postgres.database.admin(`SELECT 1 FROM alert_outbox WHERE channel = 'pager'`);
    expect(pager.rows).toEqual([]);
  });
});
