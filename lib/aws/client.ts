// Signed calls to the AWS APIs the functions use (Step Functions, Lambda, Secrets Manager, CloudWatch, SNS): the
// SDK's own SigV4 signer and credential provider, without the generated clients, whose protocol, schema, retry and
// endpoint-rule code weighed ~370 KiB in the api bundle for four operations (docs/production/README.md, bundles).
// Like those clients it reads the credentials and the AWS_ENDPOINT_URL[_<SERVICE>] overrides from the environment.

import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { LoadwatchError } from '../errors.ts';

/** What addresses and signs one AWS API. */
export interface AwsService {
  /** As error messages name it. */
  title: string;
  /** The endpoint's first label and SigV4's service name. */
  endpointPrefix: string;
  /** The SDK's service id in AWS_ENDPOINT_URL_<ID>. */
  endpointVariable: string;
  /**
   * JSON-RPC APIs (awsJson1_0, awsJson1_1): the Content-Type version and the X-Amz-Target prefix; queryCompatible
   * for an API that moved from the query protocol and still names its errors in x-amzn-query-error.
   */
  rpc?: { jsonVersion: '1.0' | '1.1'; targetPrefix: string; queryCompatible?: boolean };
  /** Query-protocol APIs (awsQuery): the Version every form carries. */
  queryVersion?: string;
  /** Request bodies from this size on are sent gzip-compressed, as the SDK does for the APIs that accept it. */
  compressFromBytes?: number;
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

/** CloudWatch's PutMetricData, over awsJson1_0 as the SDK sends it; it takes gzip bodies, compressed from 10 KiB. */
export const CLOUDWATCH: AwsService = {
  title: 'CloudWatch',
  endpointPrefix: 'monitoring',
  endpointVariable: 'CLOUDWATCH',
  rpc: { jsonVersion: '1.0', targetPrefix: 'GraniteServiceVersion20100801', queryCompatible: true },
  compressFromBytes: 10_240,
};

/** SNS speaks the query protocol: a form-encoded POST, an XML answer. */
export const SNS: AwsService = {
  title: 'SNS',
  endpointPrefix: 'sns',
  endpointVariable: 'SNS',
  queryVersion: '2010-03-31',
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
  credentials?: ReturnType<typeof defaultProvider>;
  /** Read for the endpoint overrides; process.env unless given. */
  environment?: Readonly<Record<string, string | undefined>>;
  /** Per attempt, headers and body together. */
  timeoutMs?: number;
  /** Attempts per call, the first included, for throttling, 5xx answers and broken connections. */
  maxAttempts?: number;
  /** Backoff before the second attempt; doubled each time, with full jitter. */
  retryBaseMs?: number;
  /** The wait before retry n (1, 2, …) in place of that backoff. */
  retryDelayMs?: (retry: number) => number;
}

export interface AwsClient {
  /** A JSON-RPC operation: POST / with X-Amz-Target. */
  call<T>(operation: string, input: Readonly<Record<string, unknown>>): Promise<T>;
  /** A REST-JSON GET (path already percent-encoded; see pathLabel). */
  get<T>(operation: string, path: string): Promise<T>;
  /**
   * A query-protocol operation: the parameters as form fields beside Action and Version; answers the XML answer's
   * text-only elements by name (MessageId, RequestId, …), the first of each name.
   */
  query(operation: string, parameters: Readonly<Record<string, string>>): Promise<Record<string, string>>;
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

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** What an error answer says, as its protocol carries it. */
type ErrorFields = Record<'code' | 'message' | 'requestId', string | undefined>;

/** One operation's request, before it is signed, and how its protocol reads the answer. */
interface Call {
  operation: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
  /** Throws when the answer cannot be read; the thrown error becomes an InvalidResponse. */
  read: (answer: Answer) => Record<string, unknown>;
  refused: (answer: Answer) => ErrorFields;
}

function send(
  url: URL,
  request: { method: string; headers: Record<string, string>; body: string | Uint8Array },
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

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

const header = (answer: Answer, name: string) => text(answer.headers[name]);

/** A JSON API's error: the type from x-amzn-ErrorType or __type, the message from the body. */
function jsonRefusal(answer: Answer, queryCompatible: boolean): ErrorFields {
  let body: Record<string, unknown> = {};
  try {
    body = parseJson(answer.body);
  } catch {
    // A gateway's HTML page, say: the status and the request id still say what happened.
  }
  // "Throttling;Sender": the query protocol's code, which such an API documents and the SDK reports.
  const queryCode = queryCompatible ? header(answer, 'x-amzn-query-error')?.split(';')[0] : undefined;
  return {
    code: queryCode || (header(answer, 'x-amzn-errortype') ?? text(body.__type) ?? text(body.code)),
    message: text(body.message) ?? text(body.Message),
    requestId: header(answer, 'x-amzn-requestid'),
  };
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXmlText(value: string): string {
  return value.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (entity, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return XML_ENTITIES[name] ?? entity;
  });
}

/** The elements of an XML document that hold text alone, by name, the first of each name. */
export function xmlTextElements(xml: string): Record<string, string> {
  const elements: Record<string, string> = {};
  for (const [, name, value] of xml.matchAll(/<([A-Za-z_][\w.-]*)(?:\s[^>]*)?>([^<]*)<\/\1\s*>/g)) {
    if (name !== undefined && !(name in elements)) elements[name] = decodeXmlText(value ?? '');
  }
  return elements;
}

/** A query API's error: <ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>. */
function queryRefusal(answer: Answer): ErrorFields {
  const elements = xmlTextElements(answer.body);
  return {
    code: elements.Code,
    message: elements.Message,
    requestId: elements.RequestId ?? header(answer, 'x-amzn-requestid'),
  };
}

function refusal(service: AwsService, call: Call, answer: Answer): AwsRequestError {
  const { code, message, requestId } = call.refused(answer);
  const awsCode = errorCode(code || `HTTP ${answer.status}`);
  return new AwsRequestError(
    `${service.title} ${call.operation}: ${awsCode} (HTTP ${answer.status})` +
      `${message ? `: ${message}` : ''}` +
      `${requestId ? ` [request ${requestId}]` : ''}`,
    { awsCode, httpStatus: answer.status, requestId: requestId || undefined },
  );
}

/** The SDK's form encoding of query parameters: encodeURIComponent, and !'()* too. */
function formBody(fields: Readonly<Record<string, string>>): string {
  return Object.entries(fields)
    .map(([name, value]) => `${pathLabel(name)}=${pathLabel(value)}`)
    .join('&');
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
  const retryDelayMs =
    options.retryDelayMs ?? ((retry: number) => Math.random() * retryBaseMs * 2 ** (retry - 1));
  const credentials = options.credentials ?? defaultProvider();
  let signer: { signer: SignatureV4; endpoint: URL } | undefined;

  const prepared = () => {
    const { region } = options;
    if (!region) {
      throw new AwsRequestError(`${service.title}: no region (AWS_REGION) to address and sign the call for`, {
        awsCode: 'NoRegion',
      });
    }
    signer ??= {
      signer: new SignatureV4({ service: service.endpointPrefix, region, credentials, sha256: Sha256 }),
      endpoint: endpointOf(options, region),
    };
    return signer;
  };

  async function attempt(call: Call): Promise<Record<string, unknown>> {
    const { operation, method, path, headers, body } = call;
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
        ...(body.length === 0 ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
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
    if (answer.status < 200 || answer.status >= 300) throw refusal(service, call, answer);
    try {
      return call.read(answer);
    } catch (error) {
      throw new AwsRequestError(
        `${service.title} ${operation}: the answer cannot be read: ${(error as Error).message}`,
        {
          awsCode: 'InvalidResponse',
          httpStatus: answer.status,
          cause: error,
        },
      );
    }
  }

  async function perform(call: Call): Promise<Record<string, unknown>> {
    for (let attemptNumber = 1; ; attemptNumber += 1) {
      try {
        return await attempt(call);
      } catch (error) {
        if (attemptNumber >= maxAttempts || !retryable(error)) throw error;
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attemptNumber)));
      }
    }
  }

  const readJson = (answer: Answer) => parseJson(answer.body);
  const jsonRefused = (answer: Answer) => jsonRefusal(answer, service.rpc?.queryCompatible === true);

  /** The body, gzip-compressed from the service's threshold on (node:zlib loaded then, not at import). */
  function encoded(body: string): { body: string | Uint8Array; headers: Record<string, string> } {
    const threshold = service.compressFromBytes;
    if (threshold === undefined || Buffer.byteLength(body) < threshold) return { body, headers: {} };
    return {
      body: process.getBuiltinModule('node:zlib').gzipSync(body),
      headers: { 'content-encoding': 'gzip' },
    };
  }

  return {
    async call<T>(operation: string, input: Readonly<Record<string, unknown>>) {
      const { rpc } = service;
      if (!rpc) throw new Error(`${service.title} is not a JSON-RPC API`);
      const { body, headers } = encoded(JSON.stringify(input));
      return (await perform({
        operation,
        method: 'POST',
        path: '/',
        headers: {
          'content-type': `application/x-amz-json-${rpc.jsonVersion}`,
          'x-amz-target': `${rpc.targetPrefix}.${operation}`,
          ...(rpc.queryCompatible ? { 'x-amzn-query-mode': 'true' } : {}),
          ...headers,
        },
        body,
        read: readJson,
        refused: jsonRefused,
      })) as T;
    },
    async get<T>(operation: string, path: string) {
      const call = { operation, method: 'GET', path, headers: {}, body: '' };
      return (await perform({ ...call, read: readJson, refused: jsonRefused })) as T;
    },
    async query(operation: string, parameters: Readonly<Record<string, string>>) {
      const version = service.queryVersion;
      if (!version) throw new Error(`${service.title} is not a query-protocol API`);
      return (await perform({
        operation,
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: formBody({ Action: operation, Version: version, ...parameters }),
        read: (reply) => {
          if (!reply.body.includes(`<${operation}Response`)) {
            throw new Error(`no <${operation}Response> in ${JSON.stringify(reply.body.slice(0, 80))}`);
          }
          return xmlTextElements(reply.body);
        },
        refused: queryRefusal,
      })) as Record<string, string>;
    },
  };
}
