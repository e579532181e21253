import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Notification } from '../../lib/alerts/sink.ts';
import { createSnsSink, publishParameters, snsMessage, snsSubject } from '../../lib/alerts/sns.ts';
import { AwsRequestError, createAwsClient, SNS } from '../../lib/aws/client.ts';
import {
  type AwsRecorder,
  type RecorderResponse,
  startAwsRecorder,
  stubRecorderEnvironment,
} from '../support/aws-recorder.ts';
import { verifySigV4 } from '../support/sigv4-verifier.ts';

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

describe('createSnsSink with a client of the caller', () => {
  it('publishes subject, message and every attribute as a String, severity first', async () => {
    const calls: Array<[string, Record<string, string>]> = [];
    const client = {
      query: async (operation: string, parameters: Readonly<Record<string, string>>) => {
        calls.push([operation, { ...parameters }]);
        return { MessageId: 'm-1' };
      },
    };
    await createSnsSink({ topicArn: TOPIC, client }).publish(alarm);
    expect(calls).toEqual([['Publish', publishParameters(TOPIC, alarm)]]);
    expect(publishParameters(TOPIC, alarm)).toEqual({
      TopicArn: TOPIC,
      Message: snsMessage(alarm),
      Subject: alarm.subject,
      'MessageAttributes.entry.1.Name': 'severity',
      'MessageAttributes.entry.1.Value.DataType': 'String',
      'MessageAttributes.entry.1.Value.StringValue': 'critical',
      'MessageAttributes.entry.2.Name': 'dedupe',
      'MessageAttributes.entry.2.Value.DataType': 'String',
      'MessageAttributes.entry.2.Value.StringValue': '7:raised',
      'MessageAttributes.entry.3.Name': 'check',
      'MessageAttributes.entry.3.Value.DataType': 'String',
      'MessageAttributes.entry.3.Value.StringValue': 'api',
      'MessageAttributes.entry.4.Name': 'state',
      'MessageAttributes.entry.4.Value.DataType': 'String',
      'MessageAttributes.entry.4.Value.StringValue': 'ALARM',
      'MessageAttributes.entry.5.Name': 'kind',
      'MessageAttributes.entry.5.Value.DataType': 'String',
      'MessageAttributes.entry.5.Value.StringValue': 'monitor',
    });
  });

  it('sends severity alone when the notification has no attributes, and cleans the subject', () => {
    const parameters = publishParameters(TOPIC, {
      subject: 'line one\nline two ✓',
      message: 'body',
      detail: {},
      severity: 'info',
    });
    expect(parameters.Subject).toBe('line one line two ?');
    expect(Object.keys(parameters).filter((name) => name.startsWith('MessageAttributes.'))).toEqual([
      'MessageAttributes.entry.1.Name',
      'MessageAttributes.entry.1.Value.DataType',
      'MessageAttributes.entry.1.Value.StringValue',
    ]);
    expect(parameters['MessageAttributes.entry.1.Value.StringValue']).toBe('info');
  });

  it('lets a failed publish reject, so the alert stays queued', async () => {
    const refused = new AwsRequestError('SNS Publish: NotFound (HTTP 404): Topic does not exist', {
      awsCode: 'NotFound',
      httpStatus: 404,
    });
    const client = { query: () => Promise.reject(refused) };
    await expect(createSnsSink({ topicArn: TOPIC, client }).publish(alarm)).rejects.toBe(refused);
  });
});

describe('createSnsSink on the wire', () => {
  const SECRET = 'secret';
  const published: RecorderResponse = {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': 'f187a3c1-376f-11df-8963-01868b7c937a' },
    body:
      '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult>' +
      '<MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId></PublishResult>' +
      '<ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a</RequestId></ResponseMetadata></PublishResponse>',
  };
  const throttled: RecorderResponse = {
    status: 400,
    headers: { 'content-type': 'text/xml' },
    body:
      '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>' +
      '<Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>t-1</RequestId></ErrorResponse>',
  };
  let recorder: AwsRecorder;
  const client = () =>
    createAwsClient({
      service: SNS,
      endpoint: recorder.url,
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: SECRET }),
      maxAttempts: 1,
    });

  beforeAll(async () => {
    recorder = await startAwsRecorder(published);
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
      message: 'Latency: 1200 ms — over the limit ✓\nrate=50% & rising (p99*)',
    };
    await createSnsSink({ topicArn: TOPIC, client: client() }).publish(notification);
    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    if (!request) throw new Error('no request reached the recorder');
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const check = verifySigV4(request, SECRET);
    expect(check.valid).toBe(true);
    expect(check.scope).toMatch(/^\d{8}\/us-east-1\/sns\/aws4_request$/);
    expect(check.signedHeaders).toEqual(expect.arrayContaining(['content-type', 'host', 'x-amz-date']));
    // The exact body: Action and Version first, then the fields in order, each encoded as the SDK encodes it
    // (only unreserved characters stay, !'()* too are escaped); the message, long, is compared decoded.
    const body = request.body.toString('utf8');
    const message = body.match(/&Message=([^&]*)&/)?.[1] ?? '';
    expect(message).toMatch(/^[A-Za-z0-9%._~-]+$/);
    expect(decodeURIComponent(message)).toBe(snsMessage(notification));
    expect(body.replace(`&Message=${message}`, '&Message=…')).toBe(
      `Action=Publish&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aloadwatch-alerts` +
        '&Message=…&Subject=%5BALARM%5D%20caf%3F%20%26%20co%3A%20api%20is%20down' +
        '&MessageAttributes.entry.1.Name=severity&MessageAttributes.entry.1.Value.DataType=String' +
        '&MessageAttributes.entry.1.Value.StringValue=critical' +
        '&MessageAttributes.entry.2.Name=dedupe&MessageAttributes.entry.2.Value.DataType=String' +
        '&MessageAttributes.entry.2.Value.StringValue=7%3Araised' +
        '&MessageAttributes.entry.3.Name=check&MessageAttributes.entry.3.Value.DataType=String' +
        '&MessageAttributes.entry.3.Value.StringValue=api' +
        '&MessageAttributes.entry.4.Name=state&MessageAttributes.entry.4.Value.DataType=String' +
        '&MessageAttributes.entry.4.Value.StringValue=ALARM' +
        '&MessageAttributes.entry.5.Name=kind&MessageAttributes.entry.5.Value.DataType=String' +
        '&MessageAttributes.entry.5.Value.StringValue=monitor',
    );
  });

  it('rejects with the SNS error, code, message and request id, when the topic refuses the message', async () => {
    recorder.enqueue({
      status: 400,
      headers: { 'content-type': 'text/xml' },
      body:
        '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>' +
        '<Code>InvalidParameter</Code><Message>Invalid parameter: Subject &quot;a &amp; b&quot;</Message></Error>' +
        '<RequestId>a1b2c3</RequestId></ErrorResponse>',
    });
    await expect(createSnsSink({ topicArn: TOPIC, client: client() }).publish(alarm)).rejects.toMatchObject({
      awsCode: 'InvalidParameter',
      httpStatus: 400,
      message:
        'SNS Publish: InvalidParameter (HTTP 400): Invalid parameter: Subject "a & b" [request a1b2c3]',
    });
    expect(recorder.requests).toHaveLength(1);
  });

  describe('with its own client', () => {
    beforeEach(() => stubRecorderEnvironment(SNS.endpointVariable, recorder.url, SECRET));
    afterEach(() => vi.unstubAllEnvs());

    it('tries a throttled Publish again, up to 3 requests, each signed afresh', async () => {
      recorder.enqueue(throttled, throttled);
      await createSnsSink({ topicArn: TOPIC, region: 'us-east-1' }).publish(alarm);
      expect(recorder.requests).toHaveLength(3);
      for (const request of recorder.requests) expect(verifySigV4(request, SECRET).valid).toBe(true);
      expect(new Set(recorder.requests.map((request) => request.body.toString('utf8'))).size).toBe(1);
    });

    it('rejects after 3 throttled answers, naming the throttle, so the outbox tries later', async () => {
      recorder.enqueue(throttled, throttled, throttled, throttled);
      await expect(
        createSnsSink({ topicArn: TOPIC, region: 'us-east-1' }).publish(alarm),
      ).rejects.toMatchObject({
        awsCode: 'Throttling',
        message: 'SNS Publish: Throttling (HTTP 400): Rate exceeded [request t-1]',
      });
      expect(recorder.requests).toHaveLength(3);
    });

    it('rejects a 200 answer that is not a PublishResponse', async () => {
      recorder.enqueue({
        status: 200,
        headers: { 'content-type': 'text/html' },
        body: '<html>captive portal</html>',
      });
      await expect(
        createSnsSink({ topicArn: TOPIC, region: 'us-east-1' }).publish(alarm),
      ).rejects.toMatchObject({
        awsCode: 'InvalidResponse',
        message: expect.stringContaining('SNS Publish: the answer cannot be read: no <PublishResponse>'),
      });
    });
  });
});
