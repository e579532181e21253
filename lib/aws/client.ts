// Signed calls to the AWS JSON APIs the functions use (Step Functions, Lambda, Secrets Manager): the SDK's own
// SigV4 signer and credential provider, without the generated clients, whose protocol, schema, retry and
// endpoint-rule code weighed ~370 KiB in the api bundle for four operations (docs/production/README.md, bundles).
// Like those clients it reads the credentials and the AWS_ENDPOINT_URL[_<SERVICE>] overrides from the environment.

import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { LoadwatchError } from '../errors.ts';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What addresses and signs one AWS API. */
export interface AwsService {
  /** As error messages name it. */
  title: string;
  /** The endpoint's first label and SigV4's service name. */
  endpointPrefix: string;
  /** The SDK's service id in AWS_ENDPOINT_URL_<ID>. */
  endpointVariable: string;
  /** JSON-RPC APIs (awsJson1_0, awsJson1_1): the Content-Type version and the X-Amz-Target prefix. */
  rpc?: { jsonVersion: '1.0' | '1.1'; targetPrefix: string };
}

export const STEP_FUNCTIONS: AwsService = {
  title: 'Step Functions',
  endpointPrefix: 'states',
  endpointVariable: 'SFN',
  rpc: { jsonVersion: '1.0', targetPrefix: 'AWSStepFunctions' },
};

export const SECRETS_MANAGER: AwsService = {
  title: 'Secrets Manager',
  endpointPrefix: 'secretsmanager',
  endpointVariable: 'SECRETS_MANAGER',
  rpc: { jsonVersion: '1.1', targetPrefix: 'secretsmanager' },
};

/** Lambda's control plane is REST-JSON (restJson1): each operation has its own method and path. */
export const LAMBDA: AwsService = {
  title: 'Lambda',
  endpointPrefix: 'lambda',
  endpointVariable: 'LAMBDA',
};

/** An AWS API refused or failed a call; the service's error code (ThrottlingException, …) is in awsCode. */
export class AwsRequestError extends LoadwatchError {
  readonly awsCode: string;
  readonly httpStatus: number | undefined;
  constructor(
    message: string,
    options: { awsCode: string; httpStatus?: number; requestId?: string; cause?: unknown },
  ) {
    super(message, {
      code: 'AWS_REQUEST_FAILED',
      status: 502,
      cause: options.cause,
      details: { awsCode: options.awsCode, requestId: options.requestId },
    });
    this.awsCode = options.awsCode;
    this.httpStatus = options.httpStatus;
  }
}

export interface AwsClientOptions {
  service: AwsService;
  region: string | undefined;
  /** Replaces the regional endpoint (a local stand-in); otherwise AWS_ENDPOINT_URL_<ID>, then AWS_ENDPOINT_URL. */
  endpoint?: string;
  credentials?: () => Promise<AwsCredentials>;
  /** Read for the endpoint overrides; process.env unless given. */
  environment?: Readonly<Record<string, string | undefined>>;
  /** Per attempt, headers and body together. */
  timeoutMs?: number;
  /** Attempts per call, the first included, for throttling, 5xx answers and broken connections. */
  maxAttempts?: number;
  /** Backoff before the second attempt; doubled each time, with full jitter. */
  retryBaseMs?: number;
}

export interface AwsClient {
  /** A JSON-RPC operation: POST / with X-Amz-Target. */
  call<T>(operation: string, input: Readonly<Record<string, unknown>>): Promise<T>;
  /** A REST-JSON GET (path already percent-encoded; see pathLabel). */
  get<T>(operation: string, path: string): Promise<T>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_ATTEMPTS = 3;
const DEFAULT_RETRY_BASE_MS = 100;
/** The code of a call that got no answer: refused, reset or timed out. */
const NETWORKING_ERROR = 'NetworkingError';
/** The SDK's throttling codes (@smithy/service-error-classification), which a later attempt may pass. */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
]);

/** The DNS suffix of the region's partition, as the SDK's partitions.json has it. */
export function dnsSuffix(region: string): string {
  if (region.startsWith('cn-')) return 'amazonaws.com.cn';
  if (region.startsWith('us-isob-')) return 'sc2s.sgov.gov';
  if (region.startsWith('us-isof-')) return 'csp.hci.ic.gov';
  if (region.startsWith('us-iso-')) return 'c2s.ic.gov';
  if (region.startsWith('eu-isoe-')) return 'cloud.adc-e.uk';
  if (region.startsWith('eusc-')) return 'amazonaws.eu';
  return 'amazonaws.com';
}

/** A path label as the SDK encodes it: encodeURIComponent, and !'()* too. */
export function pathLabel(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function endpointOf(options: AwsClientOptions, region: string): URL {
  const environment = options.environment ?? process.env;
  const configured =
    options.endpoint ??
    environment[`AWS_ENDPOINT_URL_${options.service.endpointVariable}`] ??
    environment.AWS_ENDPOINT_URL;
  return new URL(configured || `https://${options.service.endpointPrefix}.${region}.${dnsSuffix(region)}`);
}

/** The SDK's rule (sanitizeErrorCode): "prefix#Code:uri" → "Code". */
function errorCode(raw: string): string {
  const withoutUri = raw.split(':')[0] ?? raw;
  return withoutUri.includes('#') ? (withoutUri.split('#').at(-1) ?? withoutUri) : withoutUri;
}

/** One operation's request, before it is signed. */
interface Call {
  operation: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

function send(
  url: URL,
  request: { method: string; headers: Record<string, string>; body: string },
  timeoutMs: number,
): Promise<Answer> {
  // Plain HTTP only for a local stand-in (AWS_ENDPOINT_URL), loaded then: an ES import of node:http reads all its
  // exports, whose WebSocket getter loads Node's undici (~13 ms of the api's cold import).
  const transmit = url.protocol === 'http:' ? process.getBuiltinModule('node:http').request : httpsRequest;
  return new Promise((resolve, reject) => {
    const outgoing = transmit(
      url,
      { method: request.method, headers: request.headers, signal: AbortSignal.timeout(timeoutMs) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

function parseJson(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  const parsed: unknown = JSON.parse(text);
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

function refusal(service: AwsService, operation: string, answer: Answer): AwsRequestError {
  let body: Record<string, unknown> = {};
  try {
    body = parseJson(answer.body);
  } catch {
    // A gateway's HTML page, say: the status and the request id still say what happened.
  }
  const typeHeader = answer.headers['x-amzn-errortype'];
  const rawCode =
    (typeof typeHeader === 'string' ? typeHeader : undefined) ??
    (typeof body.__type === 'string' ? body.__type : undefined) ??
    (typeof body.code === 'string' ? body.code : undefined) ??
    `HTTP ${answer.status}`;
  const awsCode = errorCode(rawCode);
  const detail = body.message ?? body.Message;
  const requestId = answer.headers['x-amzn-requestid'];
  return new AwsRequestError(
    `${service.title} ${operation}: ${awsCode} (HTTP ${answer.status})` +
      `${typeof detail === 'string' && detail !== '' ? `: ${detail}` : ''}` +
      `${typeof requestId === 'string' ? ` [request ${requestId}]` : ''}`,
    {
      awsCode,
      httpStatus: answer.status,
      ...(typeof requestId === 'string' ? { requestId } : {}),
    },
  );
}

function retryable(error: unknown): boolean {
  if (!(error instanceof AwsRequestError)) return false;
  if (error.awsCode === NETWORKING_ERROR) return true;
  const status = error.httpStatus ?? 0;
  return status >= 500 || status === 429 || THROTTLING.has(error.awsCode);
}

export function createAwsClient(options: AwsClientOptions): AwsClient {
  const { service } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  const credentials = options.credentials ?? defaultProvider();
  let signer: { signer: SignatureV4; endpoint: URL } | undefined;

  const prepared = () => {
    if (signer) return signer;
    const region = options.region;
    if (!region) {
      throw new AwsRequestError(`${service.title}: no region (AWS_REGION) to address and sign the call for`, {
        awsCode: 'NoRegion',
      });
    }
    signer = {
      signer: new SignatureV4({ service: service.endpointPrefix, region, credentials, sha256: Sha256 }),
      endpoint: endpointOf(options, region),
    };
    return signer;
  };

  async function attempt({ operation, method, path, headers, body }: Call): Promise<Record<string, unknown>> {
    const { signer: sigV4, endpoint } = prepared();
    const url = new URL(`${endpoint.pathname.replace(/\/$/, '')}${path}`, endpoint);
    const signed = await sigV4.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: { ...headers, host: url.host },
      body,
    });
    const sent = {
      method,
      headers: {
        ...(signed.headers as Record<string, string>),
        ...(body === '' ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
      },
      body,
    };
    let answer: Answer;
    try {
      answer = await send(url, sent, timeoutMs);
    } catch (error) {
      throw new AwsRequestError(
        `${service.title} ${operation}: ${url.host} did not answer: ${(error as Error).message}`,
        { awsCode: NETWORKING_ERROR, cause: error },
      );
    }
    if (answer.status < 200 || answer.status >= 300) throw refusal(service, operation, answer);
    try {
      return parseJson(answer.body);
    } catch (error) {
      throw new AwsRequestError(`${service.title} ${operation}: the answer is not JSON`, {
        awsCode: 'InvalidResponse',
        httpStatus: answer.status,
        cause: error,
      });
    }
  }

  async function perform(call: Call): Promise<Record<string, unknown>> {
    for (let attemptNumber = 1; ; attemptNumber += 1) {
      try {
        return await attempt(call);
      } catch (error) {
        if (attemptNumber >= maxAttempts || !retryable(error)) throw error;
        const ceiling = retryBaseMs * 2 ** (attemptNumber - 1);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
      }
    }
  }

  return {
    async call<T>(operation: string, input: Readonly<Record<string, unknown>>) {
      const { rpc } = service;
      if (!rpc) throw new Error(`${service.title} is a REST API: use get()`);
      const answer = await perform({
        operation,
        method: 'POST',
        path: '/',
        headers: {
          'content-type': `application/x-amz-json-${rpc.jsonVersion}`,
          'x-amz-target': `${rpc.targetPrefix}.${operation}`,
        },
        body: JSON.stringify(input),
      });
      return answer as T;
    },
    async get<T>(operation: string, path: string) {
      return (await perform({ operation, method: 'GET', path, headers: {}, body: '' })) as T;
    },
  };
}
