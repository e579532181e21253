import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCloudWatchSink, MAX_ATTEMPTS, METRICS_PER_CALL } from '../../lib/metrics/cloudwatch.ts';
import type { Metric } from '../../lib/metrics/sink.ts';
import {
  type AwsRecorder,
  decodedBody,
  type RecorderResponse,
  startAwsRecorder,
} from '../support/aws-recorder.ts';

const NAMESPACE = 'Loadwatch/Test';
const AT = new Date('2026-03-01T12:00:00.000Z');

function metrics(count: number): Metric[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `Metric${index}`,
    value: index,
    unit: index % 2 ? 'Milliseconds' : 'Count',
    dimensions: { Service: 'loadwatch', Check: `check-${index % 3}` },
    timestamp: AT,
  }));
}

function serviceError(name: string, httpStatusCode: number, message = name): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode } });
}

describe('createCloudWatchSink with a mocked client', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  const sent = () =>
    cloudWatch
      .commandCalls(PutMetricDataCommand)
      .map((call) => call.args[0].input as PutMetricDataCommand['input']);

  beforeEach(() => {
    cloudWatch.reset();
    cloudWatch.on(PutMetricDataCommand).resolves({});
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(() => {
    cloudWatch.restore();
  });

  it('splits 1,234 metrics into calls of 500, 500 and 234, in order and fully described', async () => {
    const sink = createCloudWatchSink({ namespace: NAMESPACE, client: new CloudWatchClient({}) });
    await sink.put(metrics(1234));
    const calls = sent();
    expect(METRICS_PER_CALL).toBe(500);
    expect(calls.map((input) => input.MetricData?.length)).toEqual([500, 500, 234]);
    expect(calls.every((input) => input.Namespace === NAMESPACE)).toBe(true);
    const all = calls.flatMap((input) => input.MetricData ?? []);
    expect(all.map((datum) => datum.MetricName)).toEqual(metrics(1234).map((metric) => metric.name));
    expect(all[501]).toEqual<MetricDatum>({
      MetricName: 'Metric501',
      Value: 501,
      Unit: 'Milliseconds',
      Timestamp: AT,
      Dimensions: [
        { Name: 'Service', Value: 'loadwatch' },
        { Name: 'Check', Value: 'check-0' },
      ],
    });
    expect(all[1233]).toMatchObject({ MetricName: 'Metric1233', Value: 1233, Unit: 'Milliseconds' });
  });

  it('stamps a metric that has no timestamp with the time it was put', async () => {
    const sink = createCloudWatchSink({ namespace: NAMESPACE, client: new CloudWatchClient({}) });
    const before = Date.now();
    await sink.put([{ name: 'Bare', value: 1, unit: 'None', dimensions: {} }]);
    const datum = sent()[0]?.MetricData?.[0];
    expect(datum?.Dimensions).toEqual([]);
    expect(datum?.Timestamp).toBeInstanceOf(Date);
    const stamped = datum?.Timestamp instanceof Date ? datum.Timestamp.getTime() : Number.NaN;
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(Date.now());
  });

  it('sends nothing for an empty list', async () => {
    await createCloudWatchSink({ namespace: NAMESPACE, client: new CloudWatchClient({}) }).put([]);
    expect(sent()).toEqual([]);
  });

  it('sends a call that a caller-built client rejects only once: retries are then up to that client', async () => {
    cloudWatch.on(PutMetricDataCommand).rejects(serviceError('Throttling', 400, 'Rate exceeded'));
    const sink = createCloudWatchSink({ namespace: NAMESPACE, client: new CloudWatchClient({}) });
    await expect(sink.put(metrics(700))).rejects.toMatchObject({ name: 'Throttling' });
    expect(sent()).toHaveLength(1);
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
    new CloudWatchClient({
      endpoint: recorder.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
  const bodyOf = (index: number) => {
    const request = recorder.requests[index];
    if (!request) throw new Error(`request ${index} was never sent`);
    return JSON.parse(decodedBody(request)) as {
      Namespace: string;
      MetricData: Array<Record<string, unknown>>;
    };
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
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/');
    expect(request?.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request?.headers['x-amz-target']).toBe('GraniteServiceVersion20100801.PutMetricData');
    expect(request?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/us-east-1\/monitoring\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(bodyOf(0)).toEqual({
      Namespace: NAMESPACE,
      MetricData: [
        {
          MetricName: 'Metric0',
          Value: 0,
          Unit: 'Count',
          Timestamp: AT.getTime() / 1000,
          Dimensions: [
            { Name: 'Service', Value: 'loadwatch' },
            { Name: 'Check', Value: 'check-0' },
          ],
        },
        {
          MetricName: 'Metric1',
          Value: 1,
          Unit: 'Milliseconds',
          Timestamp: AT.getTime() / 1000,
          Dimensions: [
            { Name: 'Service', Value: 'loadwatch' },
            { Name: 'Check', Value: 'check-1' },
          ],
        },
      ],
    });
  });

  it('sends one request per batch of 500, the full batch gzip-compressed', async () => {
    await createCloudWatchSink({ namespace: NAMESPACE, client: client() }).put(metrics(501));
    expect(recorder.requests).toHaveLength(2);
    expect(recorder.requests[0]?.headers['content-encoding']).toBe('gzip');
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
  const attempts = () => recorder.requests.map((request) => request.headers['amz-sdk-request']);

  describe('with its own client', () => {
    beforeEach(() => {
      vi.stubEnv('AWS_ENDPOINT_URL_CLOUDWATCH', recorder.url);
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
      vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials');
    });
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it('retries a Throttling answer through the SDK and succeeds when throttled twice', async () => {
      recorder.enqueue(throttled, throttled);
      const delays: number[] = [];
      await expect(ownSink(delays).put(metrics(1))).resolves.toBeUndefined();
      expect(attempts()).toEqual(['attempt=1; max=4', 'attempt=2; max=4', 'attempt=3; max=4']);
      expect(delays).toEqual([1, 2]);
      expect(bodyOf(2)).toEqual(bodyOf(0));
    });

    it('stops after 4 Throttling answers and reports the throttle', async () => {
      recorder.enqueue(throttled, throttled, throttled, throttled, throttled);
      await expect(ownSink().put(metrics(1))).rejects.toMatchObject({
        name: 'Throttling',
        message: 'Rate exceeded',
      });
      expect(recorder.requests).toHaveLength(MAX_ATTEMPTS);
    });

    it.each([429, 503])('retries an HTTP %i answer', async (status) => {
      recorder.enqueue({ status, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: '{}' });
      await ownSink().put(metrics(1));
      expect(attempts()).toEqual(['attempt=1; max=4', 'attempt=2; max=4']);
    });

    it('retries only the throttled batch, never one already accepted', async () => {
      recorder.enqueue(ok, throttled);
      await ownSink().put(metrics(501));
      expect(recorder.requests).toHaveLength(3);
      expect(bodyOf(0).MetricData).toHaveLength(500);
      expect(bodyOf(1).MetricData.map((datum) => datum.MetricName)).toEqual(['Metric500']);
      expect(bodyOf(2)).toEqual(bodyOf(1));
    });

    it('does not retry a rejected request', async () => {
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
        $metadata: { httpStatusCode: 400 },
      });
      expect(recorder.requests).toHaveLength(1);
      expect(delays).toEqual([]);
    });

    it('retries with the backoff of the SDK when given no delays', async () => {
      recorder.enqueue(throttled);
      await createCloudWatchSink({ namespace: NAMESPACE, region: 'us-east-1' }).put(metrics(1));
      expect(attempts()).toEqual(['attempt=1; max=4', 'attempt=2; max=4']);
    });
  });
});
