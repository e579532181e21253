import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AwsRequestError, CLOUDWATCH, createAwsClient } from '../../lib/aws/client.ts';
import {
  createCloudWatchSink,
  MAX_ATTEMPTS,
  METRICS_PER_CALL,
  type MetricDatum,
} from '../../lib/metrics/cloudwatch.ts';
import type { Metric } from '../../lib/metrics/sink.ts';
import {
  type AwsRecorder,
  decodedBody,
  type RecorderResponse,
  startAwsRecorder,
  stubRecorderEnvironment,
} from '../support/aws-recorder.ts';
import { verifySigV4 } from '../support/sigv4-verifier.ts';

const NAMESPACE = 'Loadwatch/Test';
const AT = new Date('2026-03-01T12:00:00.000Z');
const SECRET = 'secret';

function metrics(count: number): Metric[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `Metric${index}`,
    value: index,
    unit: index % 2 ? 'Milliseconds' : 'Count',
    dimensions: { Service: 'loadwatch', Check: `check-${index % 3}` },
    timestamp: AT,
  }));
}

interface PutMetricDataInput {
  Namespace: string;
  MetricData: MetricDatum[];
}

/** A client of the caller's that records each call and answers as `answer` says. */
function recordingClient(answer: () => Promise<unknown> = async () => ({})) {
  const calls: Array<{ operation: string; input: PutMetricDataInput }> = [];
  return {
    calls,
    call: async <T>(operation: string, input: Readonly<Record<string, unknown>>) => {
      calls.push({ operation, input: structuredClone(input) as unknown as PutMetricDataInput });
      return (await answer()) as T;
    },
  };
}

describe('createCloudWatchSink with a client of the caller', () => {
  it('splits 1,234 metrics into calls of 500, 500 and 234, in order and fully described', async () => {
    const client = recordingClient();
    await createCloudWatchSink({ namespace: NAMESPACE, client }).put(metrics(1234));
    expect(METRICS_PER_CALL).toBe(500);
    expect(client.calls.map(({ operation }) => operation)).toEqual(Array(3).fill('PutMetricData'));
    const inputs = client.calls.map(({ input }) => input);
    expect(inputs.map((input) => input.MetricData.length)).toEqual([500, 500, 234]);
    expect(inputs.every((input) => input.Namespace === NAMESPACE)).toBe(true);
    const all = inputs.flatMap((input) => input.MetricData);
    expect(all.map((datum) => datum.MetricName)).toEqual(metrics(1234).map((metric) => metric.name));
    expect(all[501]).toEqual<MetricDatum>({
      MetricName: 'Metric501',
      Value: 501,
      Unit: 'Milliseconds',
      Timestamp: AT.getTime() / 1000,
      Dimensions: [
        { Name: 'Service', Value: 'loadwatch' },
        { Name: 'Check', Value: 'check-0' },
      ],
    });
    expect(all[1233]).toMatchObject({ MetricName: 'Metric1233', Value: 1233, Unit: 'Milliseconds' });
  });

  it('stamps a metric that has no timestamp with the time it was put, in epoch seconds', async () => {
    const client = recordingClient();
    const before = Date.now();
    await createCloudWatchSink({ namespace: NAMESPACE, client }).put([
      { name: 'Bare', value: 1, unit: 'None', dimensions: {} },
    ]);
    const datum = client.calls[0]?.input.MetricData[0];
    expect(datum?.Dimensions).toEqual([]);
    const stamped = (datum?.Timestamp ?? Number.NaN) * 1000;
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(Date.now());
  });

  it('sends nothing for an empty list', async () => {
    const client = recordingClient();
    await createCloudWatchSink({ namespace: NAMESPACE, client }).put([]);
    expect(client.calls).toEqual([]);
  });

  it('sends a call that a caller-built client rejects only once: retries are then up to that client', async () => {
    const throttle = new AwsRequestError('CloudWatch PutMetricData: Throttling (HTTP 400): Rate exceeded', {
      awsCode: 'Throttling',
      httpStatus: 400,
    });
    const client = recordingClient(() => Promise.reject(throttle));
    await expect(createCloudWatchSink({ namespace: NAMESPACE, client }).put(metrics(700))).rejects.toBe(
      throttle,
    );
    expect(client.calls).toHaveLength(1);
  });
});

describe('createCloudWatchSink on the wire', () => {
  const ok: RecorderResponse = {
    status: 200,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'req-ok' },
    body: '{}',
  };
  const throttled: RecorderResponse = {
    status: 400,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': 'req-throttled',
      'x-amzn-query-error': 'Throttling;Sender',
    },
    body: JSON.stringify({ __type: 'com.amazonaws.cloudwatch#Throttling', message: 'Rate exceeded' }),
  };
  let recorder: AwsRecorder;

  // A caller's client with one attempt: what the sink itself sends, request for request.
  const client = () =>
    createAwsClient({
      service: CLOUDWATCH,
      endpoint: recorder.url,
      region: 'us-east-1',
      credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: SECRET }),
      maxAttempts: 1,
    });
  const bodyOf = (index: number) => {
    const request = recorder.requests[index];
    if (!request) throw new Error(`request ${index} was never sent`);
    return JSON.parse(decodedBody(request)) as PutMetricDataInput;
  };

  beforeAll(async () => {
    recorder = await startAwsRecorder(ok);
  });
  beforeEach(() => {
    recorder.reset();
  });
  afterAll(async () => {
    await recorder?.close();
  });

  it('sends a signed awsJson1_0 PutMetricData carrying the namespace, names, units and dimensions', async () => {
    await createCloudWatchSink({ namespace: NAMESPACE, client: client() }).put(metrics(2));
    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    if (!request) throw new Error('no request reached the recorder');
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/');
    expect(request.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.PutMetricData');
    expect(request.headers['x-amzn-query-mode']).toBe('true');
    expect(request.headers['content-encoding']).toBeUndefined();
    const check = verifySigV4(request, SECRET);
    expect(check.valid).toBe(true);
    expect(check.scope).toMatch(/^\d{8}\/us-east-1\/monitoring\/aws4_request$/);
    expect(check.signedHeaders).toEqual(expect.arrayContaining(['content-type', 'host', 'x-amz-target']));
    const dimensions = (check: string) =>
      `[{"Name":"Service","Value":"loadwatch"},{"Name":"Check","Value":"${check}"}]`;
    expect(request.body.toString('utf8')).toBe(
      `{"Namespace":"${NAMESPACE}","MetricData":[` +
        `{"MetricName":"Metric0","Value":0,"Unit":"Count","Timestamp":1772366400,"Dimensions":${dimensions('check-0')}},` +
        `{"MetricName":"Metric1","Value":1,"Unit":"Milliseconds","Timestamp":1772366400,"Dimensions":${dimensions('check-1')}}` +
        ']}',
    );
    expect(AT.getTime() / 1000).toBe(1772366400);
  });

  it('sends one request per batch of 500, the full batch gzip-compressed and signed as sent', async () => {
    await createCloudWatchSink({ namespace: NAMESPACE, client: client() }).put(metrics(501));
    expect(recorder.requests).toHaveLength(2);
    const [full, rest] = recorder.requests;
    expect(full?.headers['content-encoding']).toBe('gzip');
    expect(Number(full?.headers['content-length'])).toBe(full?.body.length);
    expect(verifySigV4(full ?? { method: '', path: '', headers: {}, body: '' }, SECRET).valid).toBe(true);
    expect(rest?.headers['content-encoding']).toBeUndefined();
    expect(bodyOf(0).MetricData).toHaveLength(500);
    expect(bodyOf(1).MetricData.map((datum) => datum.MetricName)).toEqual(['Metric500']);
    expect(bodyOf(1).Namespace).toBe(NAMESPACE);
  });

  /** The sink's own client, pointed at the recorder; `delays` records the retry number of each wait. */
  const ownSink = (delays: number[] = []) =>
    createCloudWatchSink({
      namespace: NAMESPACE,
      region: 'us-east-1',
      retryDelayMs: (retry) => {
        delays.push(retry);
        return 0;
      },
    });

  describe('with its own client', () => {
    beforeEach(() => stubRecorderEnvironment(CLOUDWATCH.endpointVariable, recorder.url, SECRET));
    afterEach(() => vi.unstubAllEnvs());

    it('retries a Throttling answer and succeeds when throttled twice', async () => {
      recorder.enqueue(throttled, throttled);
      const delays: number[] = [];
      await expect(ownSink(delays).put(metrics(1))).resolves.toBeUndefined();
      expect(recorder.requests).toHaveLength(3);
      expect(delays).toEqual([1, 2]);
      expect(bodyOf(2)).toEqual(bodyOf(0));
      for (const request of recorder.requests) expect(verifySigV4(request, SECRET).valid).toBe(true);
    });

    it('stops after 4 Throttling answers and reports the throttle', async () => {
      recorder.enqueue(throttled, throttled, throttled, throttled, throttled);
      await expect(ownSink().put(metrics(1))).rejects.toMatchObject({
        awsCode: 'Throttling',
        message: 'CloudWatch PutMetricData: Throttling (HTTP 400): Rate exceeded [request req-throttled]',
      });
      expect(recorder.requests).toHaveLength(MAX_ATTEMPTS);
    });

    it.each([429, 503])('retries an HTTP %i answer', async (status) => {
      recorder.enqueue({ status, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: '{}' });
      await ownSink().put(metrics(1));
      expect(recorder.requests).toHaveLength(2);
    });

    it('retries only the throttled batch, never one already accepted', async () => {
      recorder.enqueue(ok, throttled);
      await ownSink().put(metrics(501));
      expect(recorder.requests).toHaveLength(3);
      expect(bodyOf(0).MetricData).toHaveLength(500);
      expect(bodyOf(1).MetricData.map((datum) => datum.MetricName)).toEqual(['Metric500']);
      expect(bodyOf(2)).toEqual(bodyOf(1));
    });

    it('does not retry a rejected request, and names the query code CloudWatch documents', async () => {
      recorder.enqueue({
        status: 400,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amzn-query-error': 'InvalidParameterValue;Sender',
        },
        body: JSON.stringify({
          __type: 'com.amazonaws.cloudwatch#InvalidParameterValueException',
          message: 'The value NaN for parameter MetricData.member.1.Value is invalid.',
        }),
      });
      const delays: number[] = [];
      await expect(ownSink(delays).put(metrics(1))).rejects.toMatchObject({
        awsCode: 'InvalidParameterValue',
        httpStatus: 400,
        message:
          'CloudWatch PutMetricData: InvalidParameterValue (HTTP 400): The value NaN for parameter MetricData.member.1.Value is invalid.',
      });
      expect(recorder.requests).toHaveLength(1);
      expect(delays).toEqual([]);
    });

    it('retries with jittered exponential backoff when given no delays', async () => {
      recorder.enqueue(throttled);
      await createCloudWatchSink({ namespace: NAMESPACE, region: 'us-east-1' }).put(metrics(1));
      expect(recorder.requests).toHaveLength(2);
    });
  });
});
