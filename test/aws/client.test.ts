import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AwsRequestError,
  createAwsClient,
  dnsSuffix,
  LAMBDA,
  pathLabel,
  STEP_FUNCTIONS,
  xmlTextElements,
} from '../../lib/aws/client.ts';
import { type AwsRecorder, startAwsRecorder } from '../support/aws-recorder.ts';
import { verifySigV4 } from '../support/sigv4-verifier.ts';

const CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-of-the-execution-role',
};

describe('verifySigV4', () => {
  // The worked example of the SigV4 documentation: IAM ListUsers on 30 August 2015.
  const example = {
    method: 'GET',
    path: '/?Action=ListUsers&Version=2010-05-08',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      host: 'iam.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date, ' +
        'Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    },
    body: '',
  };
  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

  it('accepts the signature of the documented example', () => {
    expect(verifySigV4(example, secret).valid).toBe(true);
  });

  it('rejects the example once its query, body or secret differ', () => {
    expect(verifySigV4({ ...example, path: '/?Action=ListUsers&Version=2010-05-09' }, secret).valid).toBe(
      false,
    );
    expect(verifySigV4({ ...example, body: 'x' }, secret).valid).toBe(false);
    expect(verifySigV4(example, `${secret}x`).valid).toBe(false);
  });
});

describe('createAwsClient', () => {
  let recorder: AwsRecorder;
  const client = (service = STEP_FUNCTIONS, options: { maxAttempts?: number } = {}) =>
    createAwsClient({
      service,
      region: 'eu-west-1',
      endpoint: recorder.url,
      credentials: async () => CREDENTIALS,
      retryBaseMs: 1,
      ...options,
    });

  beforeAll(async () => {
    recorder = await startAwsRecorder({
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: '{"executionArn":"arn:aws:states:eu-west-1:123456789012:execution:m:run-1","startDate":1.7E9}',
    });
  });
  beforeEach(() => recorder.reset());
  afterAll(async () => {
    await recorder.close();
  });

  it('sends a JSON-RPC call as Step Functions expects it, signed so that the signature verifies', async () => {
    const answer = await client().call<{ executionArn: string }>('StartExecution', { name: 'run-1' });
    expect(answer.executionArn).toBe('arn:aws:states:eu-west-1:123456789012:execution:m:run-1');
    const [request] = recorder.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/' });
    expect(request?.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AWSStepFunctions.StartExecution',
      'x-amz-security-token': CREDENTIALS.sessionToken,
      host: new URL(recorder.url).host,
    });
    expect(request?.body.toString('utf8')).toBe('{"name":"run-1"}');
    const check = verifySigV4(
      request ?? { method: '', path: '', headers: {}, body: '' },
      CREDENTIALS.secretAccessKey,
    );
    expect(check.valid).toBe(true);
    expect(check.accessKeyId).toBe(CREDENTIALS.accessKeyId);
    expect(check.scope).toMatch(/^\d{8}\/eu-west-1\/states\/aws4_request$/);
    expect(check.signedHeaders).toEqual(
      expect.arrayContaining(['content-type', 'host', 'x-amz-date', 'x-amz-security-token', 'x-amz-target']),
    );
  });

  it('signs a REST GET whose path carries an encoded ARN, as Lambda verifies it (each segment encoded twice)', async () => {
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:loadwatch-prod-loadtestWorker';
    await client(LAMBDA).get('GetFunctionConcurrency', `/2019-09-30/functions/${pathLabel(arn)}/concurrency`);
    const [request] = recorder.requests;
    expect(request?.method).toBe('GET');
    expect(request?.path).toBe(
      '/2019-09-30/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Aloadwatch-prod-loadtestWorker/concurrency',
    );
    expect(request?.body.length).toBe(0);
    const check = verifySigV4(
      request ?? { method: '', path: '', headers: {}, body: '' },
      CREDENTIALS.secretAccessKey,
    );
    expect(check.valid).toBe(true);
    expect(check.scope).toMatch(/\/eu-west-1\/lambda\/aws4_request$/);
  });

  it("turns a JSON-RPC refusal into an AwsRequestError naming the service's code, without retrying it", async () => {
    recorder.enqueue({
      status: 400,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'req-1' },
      body: '{"__type":"com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists","message":"Execution Already Exists: run-1"}',
    });
    const error = await client()
      .call('StartExecution', { name: 'run-1' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsRequestError);
    expect(error).toMatchObject({
      awsCode: 'ExecutionAlreadyExists',
      httpStatus: 400,
      code: 'AWS_REQUEST_FAILED',
      status: 502,
      expose: false,
      message:
        'Step Functions StartExecution: ExecutionAlreadyExists (HTTP 400): Execution Already Exists: run-1 [request req-1]',
    });
    expect(recorder.requests).toHaveLength(1);
  });

  it("reads a REST API's error type from x-amzn-ErrorType, without the URI after the colon", async () => {
    recorder.enqueue({
      status: 404,
      headers: { 'x-amzn-errortype': 'ResourceNotFoundException:http://internal.amazon.com/coral/x/' },
      body: '{"Type":"User","Message":"Function not found: worker"}',
    });
    await expect(
      client(LAMBDA).get('GetFunctionConcurrency', '/2019-09-30/functions/worker/concurrency'),
    ).rejects.toMatchObject({
      awsCode: 'ResourceNotFoundException',
      message:
        'Lambda GetFunctionConcurrency: ResourceNotFoundException (HTTP 404): Function not found: worker',
    });
  });

  it('tries again after throttling and a 5xx answer, and returns the answer that follows', async () => {
    recorder.enqueue(
      { status: 400, body: '{"__type":"ThrottlingException","message":"Rate exceeded"}' },
      { status: 503, body: '' },
    );
    const answer = await client().call<{ executionArn: string }>('StartExecution', { name: 'run-2' });
    expect(answer.executionArn).toContain(':run-1');
    expect(recorder.requests).toHaveLength(3);
    // Each attempt is signed afresh and verifies.
    for (const request of recorder.requests) {
      expect(verifySigV4(request, CREDENTIALS.secretAccessKey).valid).toBe(true);
    }
  });

  it('gives up after maxAttempts 5xx answers with the last one', async () => {
    recorder.enqueue(
      { status: 500, body: '{"__type":"InternalFailure"}' },
      { status: 500, body: '{"__type":"InternalFailure"}' },
      { status: 500, body: '{"__type":"InternalFailure"}' },
    );
    await expect(client(STEP_FUNCTIONS, { maxAttempts: 3 }).call('StartExecution', {})).rejects.toMatchObject(
      {
        awsCode: 'InternalFailure',
        httpStatus: 500,
      },
    );
    expect(recorder.requests).toHaveLength(3);
  });

  it('names the host that did not answer when nothing listens there', async () => {
    // A port that was just free: bound, then closed.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const unreachable = createAwsClient({
      service: STEP_FUNCTIONS,
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials: async () => CREDENTIALS,
      maxAttempts: 2,
      retryBaseMs: 1,
    });
    await expect(unreachable.call('StartExecution', {})).rejects.toMatchObject({
      awsCode: 'NetworkingError',
      message: expect.stringContaining(`Step Functions StartExecution: 127.0.0.1:${port} did not answer`),
    });
  });

  it('takes the endpoint from AWS_ENDPOINT_URL_<SERVICE> before AWS_ENDPOINT_URL, as the SDK does', async () => {
    const fromEnvironment = (environment: Record<string, string>) =>
      createAwsClient({
        service: LAMBDA,
        region: 'eu-west-1',
        environment,
        credentials: async () => CREDENTIALS,
      });
    await fromEnvironment({
      AWS_ENDPOINT_URL_LAMBDA: recorder.url,
      AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
    }).get('GetAccountSettings', '/2016-08-19/account-settings');
    await fromEnvironment({ AWS_ENDPOINT_URL: recorder.url }).get(
      'GetAccountSettings',
      '/2016-08-19/account-settings',
    );
    expect(recorder.requests.map((request) => request.path)).toEqual([
      '/2016-08-19/account-settings',
      '/2016-08-19/account-settings',
    ]);
  });

  it('refuses to sign without a region, naming AWS_REGION', async () => {
    const noRegion = createAwsClient({
      service: STEP_FUNCTIONS,
      region: undefined,
      credentials: async () => CREDENTIALS,
    });
    await expect(noRegion.call('StartExecution', {})).rejects.toThrow(
      'Step Functions: no region (AWS_REGION) to address and sign the call for',
    );
  });
});

describe('dnsSuffix', () => {
  it("answers each partition's suffix by the region's prefix", () => {
    expect(dnsSuffix('eu-west-1')).toBe('amazonaws.com');
    expect(dnsSuffix('us-gov-west-1')).toBe('amazonaws.com');
    expect(dnsSuffix('cn-north-1')).toBe('amazonaws.com.cn');
    expect(dnsSuffix('us-iso-east-1')).toBe('c2s.ic.gov');
    expect(dnsSuffix('us-isob-east-1')).toBe('sc2s.sgov.gov');
  });
});

describe('pathLabel', () => {
  it("encodes a label as the SDK does, !'()* included", () => {
    expect(pathLabel("fn:a/b!'()*")).toBe('fn%3Aa%2Fb%21%27%28%29%2A');
  });
});

describe('xmlTextElements', () => {
  it('reads the text-only elements of a query answer by name, entities decoded, the first of each name', () => {
    const xml =
      '<?xml version="1.0"?><ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">' +
      '<Error><Type>Sender</Type><Code>InvalidParameter</Code>' +
      '<Message>Topic &quot;a&amp;b&quot; &lt;x&gt; isn&apos;t &#233;&#x2713;</Message></Error>' +
      '<RequestId>r-1</RequestId><Nested><RequestId>r-2</RequestId></Nested></ErrorResponse>';
    expect(xmlTextElements(xml)).toEqual({
      Type: 'Sender',
      Code: 'InvalidParameter',
      Message: 'Topic "a&b" <x> isn\'t é✓',
      RequestId: 'r-1',
    });
  });

  it('leaves an unknown entity as it is and reads an empty element as empty text', () => {
    expect(xmlTextElements('<A>&nbsp;x</A><B></B>')).toEqual({ A: '&nbsp;x', B: '' });
  });
});
