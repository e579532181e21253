// The one reader of process.env: validates every setting at start-up and reports every problem at once.

import {
  type AlertSettings,
  INCIDENT_SEVERITIES,
  type IncidentSeverity,
  type WebhookSettings,
  webhookVariable,
} from '../alerts/channels.ts';
import { WEBHOOK_FORMATS } from '../alerts/webhook.ts';
import { LAMBDA_POOL_DEFAULTS, type PoolSettings, SERVER_POOL_DEFAULTS } from '../db/pool-settings.ts';
import { RETENTION_DEFAULTS, type RetentionSettings } from '../db/retention.ts';
import { type DatabaseAuth, type DatabaseConfig, type DatabaseTarget, SSL_MODES } from '../db/target.ts';
import { ConfigError } from '../errors.ts';
import type { CorsConfig } from '../http/cors-settings.ts';
import { DEFAULT_LIMITS, type LoadTestLimits } from '../loadtest/limits.ts';
import { SAVE_MARGIN_SECONDS, startLeadSeconds } from '../loadtest/plan.ts';
import { LAMBDA_ARCHITECTURES } from '../loadtest/pricing.ts';
import {
  ENGINE_COST,
  MAX_CONNECTIONS_PER_WORKER,
  MIN_RATE_PER_WORKER,
  minimumWorkerMemoryMb,
  workerLoadFor,
} from '../loadtest/worker-capacity.ts';
import { LOG_LEVELS, type LogLevel } from '../log/levels.ts';
import {
  DEFAULT_MONITOR_INTERVAL_SECONDS,
  MONITOR_INTERVAL_SECONDS,
  type MonitorSettings,
} from '../monitor/settings.ts';
import {
  HEADER_NAME,
  HOST,
  HOST_AND_PORT,
  HOST_OR_DOMAIN,
  ORIGIN,
  readHttpUrl,
  wholeNumberOf,
} from '../validation/rules.ts';
import { API_TIMEOUT_DEFAULTS, type ApiTimeouts, GATEWAY_TIMEOUT_MS } from './api-timeouts.ts';

// Callers that read the configuration also get its error and the database target from here.
export type { DatabaseTarget } from '../db/target.ts';
export { ConfigError } from '../errors.ts';

export type Env = Record<string, string | undefined>;
export type Runtime = 'lambda' | 'server';
/** auto: short lines on a terminal (the full JSON to a file), JSON lines otherwise; json or pretty to force one. */
const LOG_FORMATS = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export interface AwsNames {
  /** Names, not ARNs: ARNs are built at run time from the region and the account. */
  stateMachineName: string | undefined;
  /** The worker function, whose reserved concurrency the preflight reads. */
  loadtestWorkerFunctionName: string | undefined;
  alertTopicName: string | undefined;
  metricsNamespace: string;
}

/**
 * GET /metrics: open, behind METRICS_TOKEN, behind the token held by the Secrets Manager secret
 * METRICS_TOKEN_SECRET_NAME (Lambda), or off (on Lambda without either).
 */
export type MetricsAccess =
  | { kind: 'open' }
  | { kind: 'token'; token: string }
  | { kind: 'secret'; secretName: string }
  | { kind: 'disabled' };

/** The shortest bearer token GET /metrics accepts, given directly or read from its secret. */
export const MIN_METRICS_TOKEN_LENGTH = 16;

export interface Config {
  service: string;
  stage: string;
  region: string | undefined;
  runtime: Runtime;
  logLevel: LogLevel;
  logFormat: LogFormat;
  port: number;
  /** Host names the local server answers for besides localhost, 127.0.0.1 and [::1] (LOCAL_ALLOWED_HOSTS). */
  localAllowedHosts: string[];
  dataDir: string;
  cors: CorsConfig;
  database: DatabaseConfig;
  pool: PoolSettings;
  timeouts: ApiTimeouts;
  /** The service's own public API, when known: the load test's default target. */
  apiUrl: string | undefined;
  loadtest: LoadTestLimits;
  monitor: MonitorSettings;
  /** How long samples' companions, shard rows and runs are kept, and the batches they are pruned in. */
  retention: RetentionSettings;
  alerts: AlertSettings;
  metricsAccess: MetricsAccess;
  aws: AwsNames;
  /** The current invocation's X-Ray trace header: Lambda sets _X_AMZN_TRACE_ID anew for each invocation. */
  traceHeader: () => string | undefined;
}

/** A whole-number variable: its name, the range it must lie in, and the unit its messages name. */
type IntegerVariable = readonly [name: string, min: number, max: number, unit?: string];

/** Collects problems while reading, so that one run names all of them. */
class EnvReader {
  readonly problems: string[] = [];
  private readonly env: Env;
  constructor(env: Env) {
    this.env = env;
  }

  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  problem(name: string, message: string): void {
    this.problems.push(`${name}: ${message}`);
  }

  /** The entries of a comma-separated variable, trimmed, the empty ones left out; none when it is unset. */
  list(name: string): string[] {
    return (this.raw(name) ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  }

  /** The entries of a list variable that match `pattern`; each other one is a problem, `"entry" is not <what>`. */
  listOf(name: string, pattern: RegExp, what: string): string[] {
    return this.list(name).filter((entry) => {
      const matches = pattern.test(entry);
      if (!matches) this.problem(name, `"${entry}" is not ${what}`);
      return matches;
    });
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const lowered = value.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lowered)) return true;
    if (['false', '0', 'no', 'off'].includes(lowered)) return false;
    this.problem(name, `"${value}" is not a boolean (true or false)`);
    return fallback;
  }

  integer(name: string, fallback: number, min: number, max: number, unit = ''): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = wholeNumberOf(value);
    if (parsed === undefined) {
      this.problem(name, `"${value}" is not a whole number${unit ? ` of ${unit}` : ''}`);
      return fallback;
    }
    if (parsed < min || parsed > max) {
      this.problem(name, `${parsed} is out of range (${min} to ${max}${unit ? ` ${unit}` : ''})`);
      return fallback;
    }
    return parsed;
  }

  /** Whole numbers by key, each read from its variable (in the order given) or else the key's default. */
  integers<Key extends string>(
    variables: Record<Key, IntegerVariable>,
    defaults: NoInfer<Record<Key, number>>,
  ): Record<Key, number> {
    const values = {} as Record<Key, number>;
    for (const [key, [name, min, max, unit]] of Object.entries<IntegerVariable>(variables)) {
      values[key as Key] = this.integer(name, defaults[key as Key], min, max, unit);
    }
    return values;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problem(name, `"${value}" is not one of ${allowed.join(', ')}`);
    return fallback;
  }
}

function parseOrigins(reader: EnvReader, credentials: boolean): string[] {
  const origins: string[] = [];
  for (const origin of reader.list('CORS_ORIGINS')) {
    if (origin === '*') {
      if (credentials) {
        reader.problem(
          'CORS_ORIGINS',
          '"*" cannot be used with CORS_CREDENTIALS=true (it would let any site make credentialed requests); list the origins',
        );
      }
      origins.push('*');
      continue;
    }
    if (!ORIGIN.test(origin)) {
      reader.problem('CORS_ORIGINS', `"${origin}" is not an origin (scheme://host[:port])`);
      continue;
    }
    const port = origin.match(/:(\d+)$/)?.[1];
    if (port !== undefined && Number(port) > 65535) {
      reader.problem('CORS_ORIGINS', `"${origin}" has a port over 65535`);
      continue;
    }
    // Browsers send origins lower-cased and without a trailing slash; compare in that form.
    origins.push(origin.toLowerCase());
  }
  if (origins.includes('*') && origins.length > 1) {
    reader.problem('CORS_ORIGINS', '"*" must stand alone, not beside other origins');
  }
  return [...new Set(origins)];
}

/** A comma-separated list of header names (CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS); undefined when unset. */
function readHeaderNames(reader: EnvReader, name: string, unsetMeans: string): string[] | undefined {
  if (reader.raw(name) === undefined) return undefined;
  const names: string[] = [];
  for (const header of reader.list(name)) {
    if (header === '*') {
      // "*" excludes Authorization and means nothing with credentials: an explicit list says what it means.
      reader.problem(
        name,
        `"*" is not accepted; list the header names, or leave ${name} unset for ${unsetMeans}`,
      );
    } else if (!HEADER_NAME.test(header)) {
      reader.problem(name, `"${header}" is not a header name (letters, digits and !#$%&'*+-.^_\`|~)`);
    } else if (!names.some((known) => known.toLowerCase() === header.toLowerCase())) {
      names.push(header);
    }
  }
  return names;
}

function readCors(reader: EnvReader): CorsConfig {
  const credentials = reader.boolean('CORS_CREDENTIALS', false);
  const allowHeaders = readHeaderNames(reader, 'CORS_ALLOW_HEADERS', 'the headers each preflight asks for');
  const exposeHeaders = readHeaderNames(reader, 'CORS_EXPOSE_HEADERS', 'Retry-After and X-Request-Id');
  return {
    origins: parseOrigins(reader, credentials),
    credentials,
    maxAgeSeconds: reader.integer('CORS_MAX_AGE', 600, 0, 86_400, 'seconds'),
    ...(allowHeaders === undefined ? {} : { allowHeaders }),
    ...(exposeHeaders === undefined ? {} : { exposeHeaders }),
  };
}

function readLoadTestLimits(reader: EnvReader, apiUrl: string | undefined, runtime: Runtime): LoadTestLimits {
  const hosts = new Set(DEFAULT_LIMITS.allowedHosts);
  if (apiUrl) hosts.add(new URL(apiUrl).host);
  for (const host of reader.listOf(
    'LOADTEST_ALLOWED_HOSTS',
    HOST_AND_PORT,
    'a host (host or host:port, no scheme)',
  )) {
    // The spelling `new URL` gives a target ([0:0::1] → [::1], lower case), so that an entry matches its targets.
    hosts.add(new URL(`http://${host}`).host);
  }
  const read = reader.integers(
    {
      workerMemoryMb: ['LOADTEST_WORKER_MEMORY_MB', 128, 10_240, 'MB'],
      shardSeconds: ['LOADTEST_SHARD_SECONDS', 5, 840, 'seconds'],
      // Lambda's own ceiling is 900 s; the deployed stack sets the worker's timeout here too.
      workerTimeoutSeconds: ['LOADTEST_WORKER_TIMEOUT', 60, 900, 'seconds'],
      maxConcurrentRuns: ['LOADTEST_MAX_CONCURRENT_RUNS', 1, 1000, 'runs'],
      maxUsers: ['LOADTEST_MAX_USERS', 1, 1_000_000, 'users'],
      maxRate: ['LOADTEST_MAX_RATE', 1, 10_000_000, 'requests per second'],
      maxDurationSeconds: ['LOADTEST_MAX_DURATION', 1, 86_400, 'seconds'],
      maxWorkers: ['LOADTEST_MAX_WORKERS', 1, 10_000, 'workers'],
      // An hour at 10,000,000 req/s.
      maxRequests: ['LOADTEST_MAX_REQUESTS', 1, 100_000_000_000, 'requests'],
      maxGbSeconds: ['LOADTEST_MAX_GB_SECONDS', 1, 10_000_000, 'GB-seconds'],
    },
    // Locally every run shares the API's process and CPU; on AWS each has its own workers.
    { ...DEFAULT_LIMITS, maxConcurrentRuns: runtime === 'lambda' ? 10 : 2 },
  );
  const { shardSeconds, workerTimeoutSeconds } = read;
  const workersRunOn = runtime === 'lambda' ? 'lambda' : 'local';
  const limits: LoadTestLimits = {
    allowedHosts: [...hosts],
    // On Lambda, loopback is the Runtime API and link-local the metadata service: only when listed.
    allowLoopback: runtime === 'server',
    refusedLoopbackPorts: DEFAULT_LIMITS.refusedLoopbackPorts,
    ...read,
    ...readWorkerLoad(reader, read.workerMemoryMb),
    ...readCostGuards(reader),
    workersRunOn,
  };
  const fixedNeed = startLeadSeconds(1, workersRunOn) + shardSeconds + 1 + SAVE_MARGIN_SECONDS;
  if (fixedNeed > workerTimeoutSeconds) {
    reader.problem(
      'LOADTEST_SHARD_SECONDS',
      `${shardSeconds} s does not fit LOADTEST_WORKER_TIMEOUT (${workerTimeoutSeconds} s) with a ${startLeadSeconds(1, workersRunOn)} s start, a 1 s request timeout and ${SAVE_MARGIN_SECONDS} s to save the result; at most ${workerTimeoutSeconds - fixedNeed + shardSeconds} s`,
    );
  }
  return limits;
}

/** The dollar cap, the architecture that prices the workers, and the concurrency a run leaves to others. */
function readCostGuards(reader: EnvReader) {
  const raw = reader.raw('LOADTEST_MAX_USD');
  const parsed = raw !== undefined && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  const valid = parsed > 0 && parsed <= 1_000_000;
  if (raw !== undefined && !valid) {
    reader.problem('LOADTEST_MAX_USD', `"${raw}" is not an amount of US dollars over 0 and up to 1000000`);
  }
  return {
    maxUsd: valid ? parsed : DEFAULT_LIMITS.maxUsd,
    workerArchitecture: reader.oneOf(
      'LOADTEST_WORKER_ARCHITECTURE',
      LAMBDA_ARCHITECTURES,
      DEFAULT_LIMITS.workerArchitecture,
    ),
    concurrencyReserve: reader.integer(
      'LOADTEST_CONCURRENCY_RESERVE',
      DEFAULT_LIMITS.concurrencyReserve,
      0,
      1_000_000,
      'concurrent executions',
    ),
  };
}

/** Per-worker load: derived from the worker's memory (lib/loadtest/worker-capacity.ts) unless set. */
function readWorkerLoad(reader: EnvReader, workerMemoryMb: number) {
  const derived = workerLoadFor(workerMemoryMb);
  const floorMb = minimumWorkerMemoryMb();
  if (workerMemoryMb < floorMb) {
    reader.problem(
      'LOADTEST_WORKER_MEMORY_MB',
      `${workerMemoryMb} MB is too small a CPU share: the load engine keeps ${Math.round(ENGINE_COST.fixedCpuShare * 100)} % of a vCPU busy at any rate, leaving a worker under ${MIN_RATE_PER_WORKER} req/s; give at least ${floorMb} MB`,
    );
  }
  return reader.integers(
    {
      ratePerWorker: ['LOADTEST_RATE_PER_WORKER', 1, 100_000, 'requests per second'],
      // Each user holds a connection of its own, and a worker's connections stay well under Lambda's 1,024 descriptors.
      usersPerWorker: [
        'LOADTEST_USERS_PER_WORKER',
        1,
        MAX_CONNECTIONS_PER_WORKER,
        'users (one connection each)',
      ],
    },
    derived,
  );
}

/** Names, not origins: "app.test", or ".app.test" for it and every subdomain. */
function readLocalAllowedHosts(reader: EnvReader): string[] {
  const hosts = reader.listOf(
    'LOCAL_ALLOWED_HOSTS',
    HOST_OR_DOMAIN,
    'a host name (no scheme or port; ".example.test" for a domain and its subdomains)',
  );
  return [...new Set(hosts.map((host) => host.toLowerCase()))];
}

function readApiUrl(reader: EnvReader): string | undefined {
  const value = reader.raw('API_URL');
  if (value === undefined) return undefined;
  const url = readHttpUrl(value);
  if (url instanceof URL) return `${url.protocol}//${url.host}`;
  reader.problem('API_URL', `"${value}" is not an http(s) URL`);
  return undefined;
}

function readPool(reader: EnvReader, runtime: Runtime): PoolSettings {
  const pool = reader.integers(
    {
      size: ['DB_POOL_SIZE', 1, 1000, 'connections'],
      maxOverflow: ['DB_MAX_OVERFLOW', 0, 1000, 'connections'],
      recycleSeconds: ['DB_POOL_RECYCLE', 0, 86_400, 'seconds'],
      timeoutSeconds: ['DB_POOL_TIMEOUT', 1, 600, 'seconds'],
      statementTimeoutMs: ['DB_STATEMENT_TIMEOUT', 0, 3_600_000, 'milliseconds'],
    },
    runtime === 'lambda' ? LAMBDA_POOL_DEFAULTS : SERVER_POOL_DEFAULTS,
  );
  if (runtime === 'lambda' && pool.size + pool.maxOverflow > 2) {
    reader.problem(
      'DB_POOL_SIZE',
      `${pool.size} + DB_MAX_OVERFLOW ${pool.maxOverflow} is over 2 connections per Lambda container; RDS Proxy does the pooling, keep 1 + 0`,
    );
  }
  return pool;
}

/** The API's deadlines, and the check that every timeout nests inside the next one out. */
function readApiTimeouts(reader: EnvReader, pool: PoolSettings): ApiTimeouts {
  const timeouts = reader.integers(
    {
      handlerTimeoutMs: ['API_HANDLER_TIMEOUT', 100, 900_000, 'milliseconds'],
      readinessTimeoutMs: ['READINESS_TIMEOUT', 50, 900_000, 'milliseconds'],
    },
    API_TIMEOUT_DEFAULTS,
  );
  const poolMs = pool.timeoutSeconds * 1000;
  if (pool.statementTimeoutMs > 0 && pool.statementTimeoutMs >= poolMs) {
    reader.problem(
      'DB_STATEMENT_TIMEOUT',
      `${pool.statementTimeoutMs} ms must be under DB_POOL_TIMEOUT (${poolMs} ms), so that a request waiting for a connection outlasts one stuck statement`,
    );
  }
  if (poolMs >= timeouts.handlerTimeoutMs) {
    reader.problem(
      'DB_POOL_TIMEOUT',
      `${poolMs} ms must be under API_HANDLER_TIMEOUT (${timeouts.handlerTimeoutMs} ms), so that a saturated pool answers 503 before the handler gives up`,
    );
  }
  if (timeouts.handlerTimeoutMs >= GATEWAY_TIMEOUT_MS) {
    reader.problem(
      'API_HANDLER_TIMEOUT',
      `${timeouts.handlerTimeoutMs} ms must be under API Gateway's ${GATEWAY_TIMEOUT_MS} ms, so that the API answers 503 itself`,
    );
  }
  if (timeouts.readinessTimeoutMs >= timeouts.handlerTimeoutMs) {
    reader.problem(
      'READINESS_TIMEOUT',
      `${timeouts.readinessTimeoutMs} ms must be under API_HANDLER_TIMEOUT (${timeouts.handlerTimeoutMs} ms)`,
    );
  }
  return timeouts;
}

function readUrlTarget(reader: EnvReader, url: string, name = 'DATABASE_URL'): DatabaseTarget | null {
  const parsed = URL.parse(url);
  if (!parsed) {
    reader.problem(name, 'is not a URL (postgres://user:password@host:5432/database)');
    return null;
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    reader.problem(name, `scheme "${parsed.protocol.replace(/:$/, '')}" is not postgres or postgresql`);
    return null;
  }
  if (parsed.hostname === '') {
    reader.problem(name, 'has no host');
    return null;
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres';
  const port = parsed.port === '' ? 5432 : Number(parsed.port);
  const sslRaw = reader.raw('DB_SSL');
  return {
    label: `${parsed.hostname}:${port}/${database}`,
    url,
    host: parsed.hostname,
    port,
    database,
    user: decodeURIComponent(parsed.username) || 'postgres',
    auth: { kind: 'url' },
    ssl: sslRaw === undefined ? 'url' : reader.oneOf('DB_SSL', SSL_MODES, 'verify'),
    via: 'url',
  };
}

function readRdsTargets(reader: EnvReader, region: string | undefined): DatabaseConfig {
  const proxy = reader.raw('DB_PROXY_ENDPOINT');
  const direct = reader.raw('DB_DIRECT_ENDPOINT');
  const port = reader.integer('DB_PORT', 5432, 1, 65535);
  const database = reader.raw('DB_NAME');
  const user = reader.raw('DB_USER');
  const iam = reader.boolean('DB_IAM_AUTH', false);
  const secretArn = reader.raw('DB_SECRET_ARN');
  const ssl = reader.oneOf('DB_SSL', SSL_MODES, 'verify');
  const via = proxy ? 'DB_PROXY_ENDPOINT' : 'DB_DIRECT_ENDPOINT';

  if (database === undefined) reader.problem('DB_NAME', `is required with ${via}`);
  if (user === undefined) reader.problem('DB_USER', `is required with ${via}`);
  if (iam && secretArn) reader.problem('DB_SECRET_ARN', 'set together with DB_IAM_AUTH=true; choose one');
  if (!iam && !secretArn) reader.problem('DB_IAM_AUTH', `or DB_SECRET_ARN is required with ${via}`);
  if (secretArn && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(secretArn)) {
    reader.problem('DB_SECRET_ARN', `"${secretArn}" is not a Secrets Manager secret ARN`);
  }
  if ((iam || secretArn) && region === undefined) {
    reader.problem('AWS_REGION', 'is required for IAM authentication and Secrets Manager');
  }
  const readHost = reader.raw('DB_READ_ENDPOINT');
  for (const [name, host] of [
    ['DB_PROXY_ENDPOINT', proxy],
    ['DB_DIRECT_ENDPOINT', direct],
    ['DB_READ_ENDPOINT', readHost],
  ] as const) {
    if (host !== undefined && !HOST.test(host)) {
      reader.problem(name, `"${host}" is not a host name (give the endpoint without scheme or port)`);
    }
  }

  const auth: DatabaseAuth = secretArn
    ? { kind: 'secret', secretArn, region: region ?? '' }
    : { kind: 'iam', region: region ?? '' };
  const target = (host: string, kind: 'proxy' | 'direct'): DatabaseTarget => ({
    label: `${kind} ${host}:${port}/${database ?? ''}`,
    host,
    port,
    database: database ?? '',
    user: user ?? '',
    auth,
    ssl,
    via: kind,
  });
  const directTarget = direct ? target(direct, 'direct') : null;
  // A proxy's read-only endpoint (….endpoint.proxy-….rds.amazonaws.com) or a replica's own endpoint.
  const readTarget =
    readHost === undefined ? undefined : target(readHost, /\.proxy-/.test(readHost) ? 'proxy' : 'direct');
  return {
    mode: 'external',
    api: proxy ? target(proxy, 'proxy') : (directTarget as DatabaseTarget),
    migrations: directTarget,
    ...(readTarget ? { reader: { ...readTarget, label: `reader ${readTarget.label}` } } : {}),
  };
}

function readDatabase(reader: EnvReader, runtime: Runtime, region: string | undefined): DatabaseConfig {
  const url = reader.raw('DATABASE_URL');
  const readUrl = reader.raw('DATABASE_READ_URL');
  const rds = reader.raw('DB_PROXY_ENDPOINT') ?? reader.raw('DB_DIRECT_ENDPOINT');
  if (url !== undefined) {
    if (rds !== undefined) {
      reader.problem('DATABASE_URL', 'set together with DB_PROXY_ENDPOINT/DB_DIRECT_ENDPOINT; choose one');
    }
    const target = readUrlTarget(reader, url);
    const readTarget = readUrl === undefined ? null : readUrlTarget(reader, readUrl, 'DATABASE_READ_URL');
    if (!target) return { mode: 'embedded' };
    return {
      mode: 'external',
      api: target,
      migrations: target,
      ...(readTarget ? { reader: readTarget } : {}),
    };
  }
  if (readUrl !== undefined) {
    reader.problem(
      'DATABASE_READ_URL',
      'needs DATABASE_URL (the writer) beside it; with RDS set DB_READ_ENDPOINT',
    );
  }
  if (rds !== undefined) return readRdsTargets(reader, region);
  if (runtime === 'lambda') {
    reader.problem(
      'DATABASE_URL',
      'or DB_PROXY_ENDPOINT is required on Lambda (there is no embedded database)',
    );
  }
  return { mode: 'embedded' };
}

function readRetention(reader: EnvReader): RetentionSettings {
  return reader.integers(
    {
      sampleBatchRows: ['MONITOR_PRUNE_BATCH_ROWS', 1, 1_000_000, 'rows'],
      shardRetentionHours: ['LOADTEST_SHARD_RETENTION_HOURS', 0, 87_600, 'hours'],
      shardBatchRows: ['LOADTEST_PRUNE_BATCH_ROWS', 1, 100_000, 'rows'],
      runRetentionDays: ['LOADTEST_RUN_RETENTION_DAYS', 0, 36_500, 'days'],
      maxBatches: ['PRUNE_MAX_BATCHES', 1, 100_000],
    },
    RETENTION_DEFAULTS,
  );
}

function readMonitorInterval(reader: EnvReader): number {
  const { min, max } = MONITOR_INTERVAL_SECONDS;
  return reader.integer('MONITOR_INTERVAL', DEFAULT_MONITOR_INTERVAL_SECONDS, min, max, 'seconds');
}

/** "critical+warning" (or "all"): the severities a channel announces. */
function readSeverities(reader: EnvReader, name: string, value: string): IncidentSeverity[] {
  if (value === 'all') return [...INCIDENT_SEVERITIES];
  const severities: IncidentSeverity[] = [];
  for (const entry of value.split('+')) {
    const severity = entry.trim();
    if ((INCIDENT_SEVERITIES as readonly string[]).includes(severity)) {
      if (!severities.includes(severity as IncidentSeverity)) severities.push(severity as IncidentSeverity);
    } else reader.problem(name, `"${severity}" is not a severity (critical, warning, or all)`);
  }
  return severities;
}

/** ALERT_WEBHOOKS="oncall:json:critical, team:slack:all": each webhook's name, body format and severities. */
function readAlerts(reader: EnvReader, runtime: Runtime): AlertSettings {
  const webhookSecretName = reader.raw('ALERT_WEBHOOK_SECRET_NAME');
  const webhooks: WebhookSettings[] = [];
  for (const entry of (reader.raw('ALERT_WEBHOOKS') ?? '').split(',')) {
    if (entry.trim() === '') continue;
    const [name = '', format = '', severities = 'all', ...rest] = entry.trim().split(':');
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name) || name === 'sns') {
      reader.problem(
        'ALERT_WEBHOOKS',
        `"${name}" is not a webhook name (1-32 lower-case letters, digits and "-", starting with a letter; not "sns")`,
      );
      continue;
    }
    if (!(WEBHOOK_FORMATS as readonly string[]).includes(format) || rest.length > 0) {
      reader.problem(
        'ALERT_WEBHOOKS',
        `"${entry.trim()}" is not name:format[:severities] with format ${WEBHOOK_FORMATS.join(' or ')}`,
      );
      continue;
    }
    if (webhooks.some((webhook) => webhook.name === name)) {
      reader.problem('ALERT_WEBHOOKS', `"${name}" is listed twice`);
      continue;
    }
    const webhook: WebhookSettings = {
      name,
      format: format as WebhookSettings['format'],
      severities: readSeverities(reader, 'ALERT_WEBHOOKS', severities),
    };
    if (webhookSecretName === undefined) {
      const urlVariable = webhookVariable('URL', name);
      const url = reader.raw(urlVariable);
      if (runtime === 'lambda') {
        reader.problem(
          'ALERT_WEBHOOK_SECRET_NAME',
          `is required on Lambda for webhook "${name}": its URL is a secret, not an environment variable`,
        );
      } else if (url === undefined) {
        reader.problem(urlVariable, `is required for webhook "${name}" (or set ALERT_WEBHOOK_SECRET_NAME)`);
      } else if (!(readHttpUrl(url) instanceof URL)) {
        reader.problem(urlVariable, 'is not an http(s) URL');
      } else webhook.url = url;
      const signingSecret = reader.raw(webhookVariable('SIGNING_SECRET', name));
      if (signingSecret !== undefined) webhook.signingSecret = signingSecret;
    }
    webhooks.push(webhook);
  }
  return {
    snsSeverities: readSeverities(reader, 'ALERT_SEVERITIES', reader.raw('ALERT_SEVERITIES') ?? 'all'),
    webhooks,
    webhookSecretName,
  };
}

function readMetricsAccess(reader: EnvReader, runtime: Runtime): MetricsAccess {
  const token = reader.raw('METRICS_TOKEN');
  const secretName = reader.raw('METRICS_TOKEN_SECRET_NAME');
  if (secretName !== undefined) {
    if (token !== undefined)
      reader.problem('METRICS_TOKEN_SECRET_NAME', 'give it or METRICS_TOKEN, not both');
    else if (runtime !== 'lambda')
      reader.problem('METRICS_TOKEN_SECRET_NAME', 'is read on Lambda only; set METRICS_TOKEN here');
    else if (!/^[\w/+=.@-]{1,512}$/.test(secretName))
      reader.problem('METRICS_TOKEN_SECRET_NAME', `"${secretName}" is not a Secrets Manager secret name`);
    else return { kind: 'secret', secretName };
    return { kind: 'disabled' };
  }
  if (token === undefined) return runtime === 'lambda' ? { kind: 'disabled' } : { kind: 'open' };
  if (!isMetricsToken(token)) {
    reader.problem('METRICS_TOKEN', `must be at least ${MIN_METRICS_TOKEN_LENGTH} characters without spaces`);
    return { kind: 'disabled' };
  }
  return { kind: 'token', token };
}

/** Whether a text is a bearer token GET /metrics accepts. */
export function isMetricsToken(token: string): boolean {
  return token.length >= MIN_METRICS_TOKEN_LENGTH && !/\s/.test(token);
}

/** Reads and validates the whole configuration; throws ConfigError naming every problem. */
export function loadConfig(env: Env = process.env): Config {
  const reader = new EnvReader(env);
  const runtime: Runtime = reader.raw('AWS_LAMBDA_FUNCTION_NAME') ? 'lambda' : 'server';
  const region = reader.raw('AWS_REGION') ?? reader.raw('AWS_DEFAULT_REGION');
  const stage = reader.raw('STAGE') ?? (runtime === 'lambda' ? 'dev' : 'local');
  if (!/^[a-zA-Z0-9-]{1,32}$/.test(stage)) {
    reader.problem('STAGE', `"${stage}" may hold only letters, digits and dashes (at most 32)`);
  }
  const settings = {
    service: reader.raw('SERVICE_NAME') ?? 'loadwatch',
    stage,
    region,
    runtime,
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    logFormat: reader.oneOf('LOG_FORMAT', LOG_FORMATS, 'auto'),
    port: reader.integer('PORT', 3000, 1, 65535),
    localAllowedHosts: readLocalAllowedHosts(reader),
    dataDir: reader.raw('LOADWATCH_DATA_DIR') ?? '.loadwatch',
    cors: readCors(reader),
    pool: readPool(reader, runtime),
    monitor: {
      checksFile: reader.raw('MONITOR_CHECKS_FILE'),
      intervalSeconds: readMonitorInterval(reader),
      retentionDays: reader.integer('MONITOR_RETENTION_DAYS', 14, 1, 3650, 'days'),
      retentionDaysSet: reader.raw('MONITOR_RETENTION_DAYS') !== undefined,
    },
    retention: readRetention(reader),
    alerts: readAlerts(reader, runtime),
    metricsAccess: readMetricsAccess(reader, runtime),
    aws: {
      stateMachineName: reader.raw('LOADTEST_STATE_MACHINE_NAME'),
      loadtestWorkerFunctionName: reader.raw('LOADTEST_WORKER_FUNCTION_NAME'),
      alertTopicName: reader.raw('ALERT_TOPIC_NAME'),
      metricsNamespace: reader.raw('METRICS_NAMESPACE') ?? 'Loadwatch',
    },
    traceHeader: () => env._X_AMZN_TRACE_ID,
  };
  const timeouts = readApiTimeouts(reader, settings.pool);
  const apiUrl = readApiUrl(reader);
  const loadtest = readLoadTestLimits(reader, apiUrl, runtime);
  const database = readDatabase(reader, runtime, region);
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return { ...settings, timeouts, apiUrl, loadtest, database };
}
