// Check definitions: read once from a JSON file (or the defaults), validated with one message per bad field.

import { readFileSync } from 'node:fs';
import { EXIT, LoadwatchError } from '../errors.ts';
import { hasControlCharacters, terminalSafe } from '../terminal-text.ts';
import { ORIGIN } from '../validation/rules.ts';

export type CheckKind = 'http' | 'cors' | 'database';

export interface DownRule {
  /** Down after this many failed cycles in a row… */
  consecutive?: number;
  /** …or after `failures` failed cycles among the last `window`. */
  failures?: number;
  window?: number;
}

export interface CheckRules {
  down: DownRule;
  /** Degraded when latency is over latency.warnMs for this many cycles in a row. */
  degradedCycles: number;
  /** Error rate over `percent` across the last `window` cycles; null to disable. */
  errorRate: { percent: number; window: number } | null;
  /** Healthy cycles in a row needed before an incident is resolved. */
  recoveryCycles: number;
  /** Minutes between reminders while an incident stays open; 0 for none. */
  reminderMinutes: number;
}

export interface CheckDefinition {
  name: string;
  /** Identifies the check's state and history: the name, plus the host when the target was overridden. */
  key: string;
  kind: CheckKind;
  url: string;
  method: 'GET' | 'HEAD' | 'POST' | 'OPTIONS';
  headers: Record<string, string>;
  expectStatus: number[];
  timeoutMs: number;
  latency: { warnMs: number; criticalMs: number };
  cors?: { allowedOrigin: string; deniedOrigin: string };
  rules: CheckRules;
}

export interface MaintenanceWindow {
  /** Check names, or ['*'] for all. */
  checks: string[];
  start: Date;
  end: Date;
  reason: string;
}

export interface MonitorDefinition {
  checks: CheckDefinition[];
  maintenance: MaintenanceWindow[];
}

export class CheckConfigError extends LoadwatchError {
  declare readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`${source}:\n${problems.map((problem) => `  ${problem}`).join('\n')}`, {
      code: 'CHECKS_INVALID',
      exitCode: EXIT.usage,
      problems,
      summary: `invalid checks in ${source}:`,
    });
    this.name = 'CheckConfigError';
  }
}

export interface MonitorSettings {
  /** A JSON file of checks; the service's own /health and /health/ready when unset. */
  checksFile: string | undefined;
  intervalSeconds: number;
  retentionDays: number;
}

/** Seconds between monitor cycles, for MONITOR_INTERVAL and --interval alike. */
export const MONITOR_INTERVAL_SECONDS = { min: 1, max: 86_400 } as const;
export const DEFAULT_MONITOR_INTERVAL_SECONDS = 60;

/** The monitor function's timeout in serverless.yml: every probe's deadline must end inside it. */
export const MONITOR_LAMBDA_TIMEOUT_SECONDS = 50;

/** A check's deadline when it gives none, unless half the interval is shorter. */
const DEFAULT_TIMEOUT_MS = 5000;

export const DEFAULT_RULES: CheckRules = {
  down: { consecutive: 3 },
  degradedCycles: 3,
  errorRate: { percent: 50, window: 10 },
  recoveryCycles: 2,
  reminderMinutes: 60,
};

/** The service's own checks, used when no checks file is configured. */
export const DEFAULT_CHECKS = [
  { name: 'health', endpoint: '/health', latency: { warn: 500, critical: 2000 } },
  { name: 'ready', endpoint: '/health/ready', kind: 'database', latency: { warn: 1000, critical: 3000 } },
];

const METHODS = ['GET', 'HEAD', 'POST', 'OPTIONS'] as const;
const KINDS: CheckKind[] = ['http', 'cors', 'database'];

class Reader {
  readonly problems: string[] = [];
  add(path: string, message: string) {
    this.problems.push(`${path}: ${message}`);
  }
  int(path: string, value: unknown, fallback: number, min: number, max: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.add(path, `${JSON.stringify(value)} is not a whole number`);
      return fallback;
    }
    if (value < min || value > max) {
      this.add(path, `${value} is out of range (${min} to ${max})`);
      return fallback;
    }
    return value;
  }
}

function readRules(reader: Reader, path: string, raw: unknown): CheckRules {
  if (raw === undefined) return DEFAULT_RULES;
  if (typeof raw !== 'object' || raw === null) {
    reader.add(path, 'must be an object');
    return DEFAULT_RULES;
  }
  const rules = raw as Record<string, unknown>;
  const down = (rules.down ?? {}) as Record<string, unknown>;
  let downRule: DownRule = DEFAULT_RULES.down;
  if (rules.down !== undefined) {
    if (down.consecutive !== undefined) {
      downRule = { consecutive: reader.int(`${path}.down.consecutive`, down.consecutive, 3, 1, 100) };
    } else if (down.failures !== undefined || down.window !== undefined) {
      const failures = reader.int(`${path}.down.failures`, down.failures, 3, 1, 100);
      const window = reader.int(`${path}.down.window`, down.window, 5, 1, 1000);
      if (failures > window)
        reader.add(`${path}.down`, `failures (${failures}) cannot exceed window (${window})`);
      downRule = { failures, window };
    } else {
      reader.add(`${path}.down`, 'needs "consecutive", or "failures" and "window"');
    }
  }
  let errorRate = DEFAULT_RULES.errorRate;
  if (rules.errorRate === null || rules.errorRate === false) errorRate = null;
  else if (rules.errorRate !== undefined) {
    const rate = rules.errorRate as Record<string, unknown>;
    errorRate = {
      percent: reader.int(`${path}.errorRate.percent`, rate.percent, 50, 1, 100),
      window: reader.int(`${path}.errorRate.window`, rate.window, 10, 1, 1000),
    };
  }
  return {
    down: downRule,
    degradedCycles: reader.int(
      `${path}.degradedCycles`,
      rules.degradedCycles,
      DEFAULT_RULES.degradedCycles,
      1,
      100,
    ),
    errorRate,
    recoveryCycles: reader.int(
      `${path}.recoveryCycles`,
      rules.recoveryCycles,
      DEFAULT_RULES.recoveryCycles,
      1,
      100,
    ),
    reminderMinutes: reader.int(
      `${path}.reminderMinutes`,
      rules.reminderMinutes,
      DEFAULT_RULES.reminderMinutes,
      0,
      10_080,
    ),
  };
}

function readOrigin(reader: Reader, path: string, value: unknown): string {
  if (typeof value === 'string' && ORIGIN.test(value)) return value;
  reader.add(path, `${JSON.stringify(value)} is not an origin (scheme://host[:port])`);
  return '';
}

/** A probe still running when the next cycle starts, or when the Lambda is stopped, would never be recorded. */
function checkDeadline(
  reader: Reader,
  path: string,
  name: unknown,
  timeoutMs: number,
  intervalSeconds: number | undefined,
) {
  const label = typeof name === 'string' ? `check "${name}"` : 'the check';
  if (intervalSeconds !== undefined && timeoutMs >= intervalSeconds * 1000) {
    reader.add(
      `${path}.timeout`,
      `${timeoutMs} ms for ${label} is not below the monitor's interval of ${intervalSeconds} s (${intervalSeconds * 1000} ms); lower the timeout or lengthen the interval`,
    );
  }
  if (timeoutMs >= MONITOR_LAMBDA_TIMEOUT_SECONDS * 1000) {
    reader.add(
      `${path}.timeout`,
      `${timeoutMs} ms for ${label} is not below the monitor function's timeout of ${MONITOR_LAMBDA_TIMEOUT_SECONDS} s (${MONITOR_LAMBDA_TIMEOUT_SECONDS * 1000} ms)`,
    );
  }
}

function readCheck(
  reader: Reader,
  index: number,
  raw: unknown,
  baseUrl: string,
  overridden: boolean,
  intervalSeconds: number | undefined,
): CheckDefinition | null {
  const path = `checks[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    reader.add(path, 'must be an object with at least "name" and "url" or "endpoint"');
    return null;
  }
  const check = raw as Record<string, unknown>;
  const known = [
    'name',
    'url',
    'endpoint',
    'kind',
    'method',
    'headers',
    'expectStatus',
    'timeout',
    'latency',
    'cors',
    'rules',
  ];
  for (const key of Object.keys(check))
    if (!known.includes(key)) reader.add(`${path}.${key}`, 'is not a check setting');
  const name = check.name;
  if (typeof name !== 'string' || !/^[\w.-]{1,64}$/.test(name)) {
    reader.add(`${path}.name`, `${JSON.stringify(name)} must be 1-64 letters, digits, ".", "_" or "-"`);
  }
  const kind = (check.kind ?? 'http') as CheckKind;
  if (!KINDS.includes(kind))
    reader.add(`${path}.kind`, `"${String(check.kind)}" is not one of ${KINDS.join(', ')}`);
  let url = '';
  if (check.url !== undefined && check.endpoint !== undefined)
    reader.add(path, 'give "url" or "endpoint", not both');
  if (typeof check.url === 'string') {
    try {
      const parsed = new URL(check.url);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
      url = parsed.toString();
    } catch {
      reader.add(`${path}.url`, `"${check.url}" is not an http(s) URL`);
    }
  } else if (typeof check.endpoint === 'string' && hasControlCharacters(check.endpoint)) {
    reader.add(`${path}.endpoint`, `"${terminalSafe(check.endpoint)}" holds a control character`);
  } else if (typeof check.endpoint === 'string' && check.endpoint.startsWith('/')) {
    url = `${baseUrl.replace(/\/$/, '')}${check.endpoint}`;
  } else {
    reader.add(
      `${path}.endpoint`,
      `${JSON.stringify(check.endpoint ?? check.url)} must be a path starting with "/" (or give "url")`,
    );
  }
  const method = String(check.method ?? 'GET').toUpperCase();
  if (!(METHODS as readonly string[]).includes(method))
    reader.add(`${path}.method`, `"${method}" is not one of ${METHODS.join(', ')}`);
  const expect =
    check.expectStatus === undefined
      ? [200]
      : Array.isArray(check.expectStatus)
        ? check.expectStatus
        : [check.expectStatus];
  const expectStatus = expect.filter(
    (status): status is number => Number.isInteger(status) && status >= 100 && status <= 599,
  );
  if (expectStatus.length !== expect.length || expectStatus.length === 0) {
    reader.add(
      `${path}.expectStatus`,
      `${JSON.stringify(check.expectStatus)} must be an HTTP status or a list of them`,
    );
  }
  const defaultTimeoutMs =
    intervalSeconds === undefined
      ? DEFAULT_TIMEOUT_MS
      : Math.min(DEFAULT_TIMEOUT_MS, Math.floor((intervalSeconds * 1000) / 2));
  const timeoutMs = reader.int(`${path}.timeout`, check.timeout, defaultTimeoutMs, 100, 60_000);
  checkDeadline(reader, path, name, timeoutMs, intervalSeconds);
  const latencyRaw = (check.latency ?? {}) as Record<string, unknown>;
  const warnMs = reader.int(`${path}.latency.warn`, latencyRaw.warn, 1000, 1, 60_000);
  const criticalMs = reader.int(
    `${path}.latency.critical`,
    latencyRaw.critical,
    Math.max(warnMs, 3000),
    1,
    60_000,
  );
  if (criticalMs < warnMs)
    reader.add(`${path}.latency`, `critical (${criticalMs}) must not be below warn (${warnMs})`);
  let cors: CheckDefinition['cors'];
  if (kind === 'cors') {
    const corsRaw = (check.cors ?? {}) as Record<string, unknown>;
    cors = {
      allowedOrigin: readOrigin(reader, `${path}.cors.allowedOrigin`, corsRaw.allowedOrigin),
      deniedOrigin: readOrigin(
        reader,
        `${path}.cors.deniedOrigin`,
        corsRaw.deniedOrigin ?? 'https://denied.invalid',
      ),
    };
  }
  const headers: Record<string, string> = {};
  if (check.headers !== undefined) {
    if (typeof check.headers !== 'object' || check.headers === null)
      reader.add(`${path}.headers`, 'must be an object');
    else
      for (const [key, value] of Object.entries(check.headers)) {
        if (hasControlCharacters(key) || hasControlCharacters(String(value)))
          reader.add(`${path}.headers.${terminalSafe(key)}`, 'holds a control character');
        else headers[key.toLowerCase()] = String(value);
      }
  }
  const rules = readRules(reader, `${path}.rules`, check.rules);
  if (typeof name !== 'string') return null;
  const host = url ? new URL(url).host : '';
  return {
    name,
    key: overridden ? `${name}@${host}` : name,
    kind,
    url,
    method: method as CheckDefinition['method'],
    headers,
    expectStatus,
    timeoutMs,
    latency: { warnMs, criticalMs },
    ...(cors ? { cors } : {}),
    rules,
  };
}

function readMaintenance(reader: Reader, raw: unknown, names: string[]): MaintenanceWindow[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    reader.add('maintenance', 'must be a list of {checks, start, end, reason}');
    return [];
  }
  return raw.flatMap((item, index) => {
    const path = `maintenance[${index}]`;
    const window = (item ?? {}) as Record<string, unknown>;
    const start = new Date(String(window.start));
    const end = new Date(String(window.end));
    if (Number.isNaN(start.getTime()))
      reader.add(`${path}.start`, `${JSON.stringify(window.start)} is not an ISO 8601 time`);
    if (Number.isNaN(end.getTime()))
      reader.add(`${path}.end`, `${JSON.stringify(window.end)} is not an ISO 8601 time`);
    if (end <= start) reader.add(path, 'end must be after start');
    const checks =
      window.checks === undefined ? ['*'] : Array.isArray(window.checks) ? window.checks.map(String) : [];
    for (const check of checks)
      if (check !== '*' && !names.includes(check)) reader.add(`${path}.checks`, `"${check}" is not a check`);
    return [{ checks, start, end, reason: String(window.reason ?? 'maintenance') }];
  });
}

/**
 * Validates a monitor definition ({checks, maintenance}). `baseUrl` is the API the endpoints are relative
 * to; `overridden` is true when it came from --target rather than the service's own API; `intervalSeconds`, the
 * seconds between the cycles that will run it, bounds each check's timeout.
 */
export function parseMonitorDefinition(
  raw: unknown,
  baseUrl: string,
  source: string,
  overridden = false,
  intervalSeconds?: number,
): MonitorDefinition {
  const reader = new Reader();
  const document = (raw ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CheckConfigError(source, [
      '(file): must be a JSON object {"checks": [...], "maintenance": [...]}',
    ]);
  }
  for (const key of Object.keys(document))
    if (!['checks', 'maintenance'].includes(key)) reader.add(key, 'is not a monitor setting');
  const rawChecks = document.checks;
  if (!Array.isArray(rawChecks) || rawChecks.length === 0) reader.add('checks', 'must be a non-empty list');
  const checks = (Array.isArray(rawChecks) ? rawChecks : [])
    .map((check, index) => readCheck(reader, index, check, baseUrl, overridden, intervalSeconds))
    .filter((check): check is CheckDefinition => check !== null);
  const seen = new Set<string>();
  for (const check of checks) {
    if (seen.has(check.name)) reader.add('checks', `"${check.name}" is defined twice`);
    seen.add(check.name);
  }
  const maintenance = readMaintenance(
    reader,
    document.maintenance,
    checks.map((check) => check.name),
  );
  if (reader.problems.length > 0) throw new CheckConfigError(source, reader.problems);
  return { checks, maintenance };
}

/** The checks file when one is given, the service's own checks otherwise. */
export function loadMonitorDefinition(
  file: string | undefined,
  baseUrl: string,
  overridden = false,
  intervalSeconds?: number,
): MonitorDefinition {
  if (!file) {
    return parseMonitorDefinition(
      { checks: DEFAULT_CHECKS },
      baseUrl,
      'default checks',
      overridden,
      intervalSeconds,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CheckConfigError(file, [`(file): ${(error as Error).message}`]);
  }
  return parseMonitorDefinition(raw, baseUrl, file, overridden, intervalSeconds);
}
