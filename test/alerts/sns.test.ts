import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../lib/alerts/sink.ts';
import { createSnsSink, snsMessage, snsSubject } from '../../lib/alerts/sns.ts';
import { type AwsRecorder, decodedBody, startAwsRecorder } from '../support/aws-recorder.ts';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:loadwatch-alerts';

const alarm: Notification = {
  subject: '[ALARM] loadwatch/prod: api is down',
  message: 'api (https://api.example.com/health) is down.\nLast check: failed: status 500, expected 200.',
  detail: { incidentId: 7, check: 'api', state: 'ALARM', rules: ['down'], lastSample: { status: 500 } },
  severity: 'critical',
  attributes: { check: 'api', state: 'ALARM', kind: 'monitor' },
  deduplicationId: '7:raised',
};

describe('snsSubject', () => {
  it('keeps a short ASCII subject as it is', () => {
    expect(snsSubject(alarm.subject)).toBe(alarm.subject);
  });

  it('makes a 300-character subject with a newline and an emoji fit SNS: 100 printable ASCII characters at most', () => {
    const raw = `[ALARM] loadwatch/prod: checkout\nis down 🔥 ${'x'.repeat(300)}`.slice(0, 300);
    expect(raw).toHaveLength(300);
    const subject = snsSubject(raw);
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject.length).toBeGreaterThanOrEqual(90);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject.startsWith('[ALARM] loadwatch/prod: checkout is down ')).toBe(true);
  });

  it('keeps a subject of exactly 100 characters whole and replaces tabs and carriage returns', () => {
    const hundred = `A${'b'.repeat(99)}`;
    expect(snsSubject(hundred)).toBe(hundred);
    expect(snsSubject('one\r\ntwo\tthree')).toBe('one two three');
  });
});

describe('snsMessage', () => {
  it('puts the human text first, then a --- line, then the detail as JSON', () => {
    const message = snsMessage(alarm);
    const [human, json, ...rest] = message.split('\n---\n');
    expect(rest).toEqual([]);
    expect(human?.trimEnd()).toBe(alarm.message);
    expect(JSON.parse(json ?? '')).toEqual(alarm.detail);
  });
});

describe('createSnsSink with a mocked client', () => {
  const sns = mockClient(SNSClient);
  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'mocked' });
  });
  afterAll(() => {
    sns.restore();
  });

  it('publishes subject, message and every attribute as a String, severity included', async () => {
    await createSnsSink({ topicArn: TOPIC, client: new SNSClient({}) }).publish(alarm);
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      TopicArn: TOPIC,
      Subject: alarm.subject,
      Message: snsMessage(alarm),
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'critical' },
        dedupe: { DataType: 'String', StringValue: '7:raised' },
        check: { DataType: 'String', StringValue: 'api' },
        state: { DataType: 'String', StringValue: 'ALARM' },
        kind: { DataType: 'String', StringValue: 'monitor' },
      },
    });
  });

  it('sends severity alone when the notification has no attributes, and cleans the subject', async () => {
    await createSnsSink({ topicArn: TOPIC, client: new SNSClient({}) }).publish({
      subject: 'line one\nline two ✓',
      message: 'body',
      detail: {},
      severity: 'info',
    });
    const input = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.Subject).toBe('line one line two ?');
    expect(input?.MessageAttributes).toEqual({ severity: { DataType: 'String', StringValue: 'info' } });
  });

  it('lets a failed publish reject, so the alert stays queued', async () => {
    sns
      .on(PublishCommand)
      .rejects(Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' }));
    await expect(
      createSnsSink({ topicArn: TOPIC, client: new SNSClient({}) }).publish(alarm),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
  });
});

describe('createSnsSink on the wire', () => {
  let recorder: AwsRecorder;
  const client = () =>
    new SNSClient({
      endpoint: recorder.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });

  beforeAll(async () => {
    recorder = await startAwsRecorder({
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body:
        '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>' +
        '<MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>' +
        '<ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata></PublishResponse>',
    });
  });
  beforeEach(() => {
    recorder.reset();
  });
  afterAll(async () => {
    await recorder?.close();
  });

  it('sends a signed query-protocol Publish whose form fields decode to the notification', async () => {
    const notification: Notification = {
      ...alarm,
      subject: '[ALARM] café & co: api is down\n',
      message: 'Latency: 1200 ms — over the limit ✓\nrate=50% & rising',
    };
    await createSnsSink({ topicArn: TOPIC, client: client() }).publish(notification);
    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    if (!request) throw new Error('no request reached the recorder');
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/');
    expect(request.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/sns\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    const form = Object.fromEntries(new URLSearchParams(decodedBody(request)));
    const attributes: Record<string, { type?: string; value?: string }> = {};
    for (let entry = 1; form[`MessageAttributes.entry.${entry}.Name`] !== undefined; entry++) {
      attributes[form[`MessageAttributes.entry.${entry}.Name`] as string] = {
        type: form[`MessageAttributes.entry.${entry}.Value.DataType`],
        value: form[`MessageAttributes.entry.${entry}.Value.StringValue`],
      };
    }
    expect(form).toMatchObject({
      Action: 'Publish',
      Version: '2010-03-31',
      TopicArn: TOPIC,
      Subject: '[ALARM] caf? & co: api is down',
      Message: snsMessage(notification),
    });
    expect(attributes).toEqual({
      severity: { type: 'String', value: 'critical' },
      dedupe: { type: 'String', value: '7:raised' },
      check: { type: 'String', value: 'api' },
      state: { type: 'String', value: 'ALARM' },
      kind: { type: 'String', value: 'monitor' },
    });
  });

  it('rejects with the SNS error when the topic refuses the message', async () => {
    recorder.enqueue({
      status: 400,
      headers: { 'content-type': 'text/xml' },
      body:
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>' +
        '<Code>InvalidParameter</Code><Message>Invalid parameter: Subject</Message></Error>' +
        '<RequestId>a1b2c3</RequestId></ErrorResponse>',
    });
    await expect(createSnsSink({ topicArn: TOPIC, client: client() }).publish(alarm)).rejects.toMatchObject({
      message: 'Invalid parameter: Subject',
      $metadata: { httpStatusCode: 400 },
    });
    expect(recorder.requests).toHaveLength(1);
  });
});
