// Check definitions: read once from a JSON file (or the defaults) with the checks file's schema, every problem named.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, resolve } from 'node:path';
import * as v from 'valibot';
import { EXIT, LoadwatchError } from '../errors.ts';
import { type CompiledScenario, compileScenario } from '../scenario/compile.ts';
import { readScenarioFile } from '../scenario/file.ts';
import { parseScenario, ScenarioError } from '../scenario/schema.ts';
import { terminalSafe } from '../terminal-text.ts';
import { issueLines } from '../validation/issues.ts';
import { isJsonObject } from '../validation/rules.ts';
import { type CheckInput, type CheckKind, type MaintenanceWindow, MONITOR_FILE } from './check-schema.ts';
import { heartbeatTokenHash } from './heartbeat.ts';
import { MONITOR_LAMBDA_TIMEOUT_SECONDS } from './settings.ts';
import type { SloObjective } from './slo.ts';

interface CheckCommon extends Pick<CheckInput, 'name' | 'latency' | 'rules'> {
  /** Identifies the check's state and history: the name, plus the host when the target was overridden. */
  key: string;
  /** What the check probes, for messages and reports: a URL, tls://host:port, tcp://host:port, dns:host, heartbeat:name. */
  url: string;
  /** The host (host:port) whose load tests hold this check's alerts; null for a heartbeat, which probes nothing. */
  holdHost: string | null;
  timeoutMs: number;
  /** Seconds between this check's probes, a multiple of the monitor's; undefined for every cycle. */
  intervalSeconds?: number;
  /** Names of the checks whose incidents this one's failures join. */
  dependsOn: string[];
  /** Its objective, whose error budget the burn-rate rule watches. */
  slo?: SloObjective;
}

type InputOf<Kind extends CheckKind> = Extract<CheckInput, { kind: Kind }>;

export interface HttpCheckDefinition
  extends CheckCommon,
    Pick<InputOf<'http'>, 'method' | 'headers' | 'assert'> {
  kind: 'http' | 'cors' | 'database';
  /** Empty when a status assertion takes its place. */
  expectStatus: number[];
  cors?: { allowedOrigin: string; deniedOrigin: string };
}

export interface TlsCheckDefinition
  extends CheckCommon,
    Pick<InputOf<'tls'>, 'host' | 'port' | 'days' | 'servername'> {
  kind: 'tls';
  /** PEM text of the authorities to trust instead of Node's own list. */
  ca?: string;
}

export interface TcpCheckDefinition extends CheckCommon, Pick<InputOf<'tcp'>, 'host' | 'port'> {
  kind: 'tcp';
}

export interface DnsCheckDefinition
  extends CheckCommon,
    Pick<InputOf<'dns'>, 'host' | 'recordType' | 'servers' | 'expect'> {
  kind: 'dns';
}

export interface HeartbeatCheckDefinition extends CheckCommon {
  kind: 'heartbeat';
  periodSeconds: number;
  graceSeconds: number;
  /** SHA-256 of the job's token, in hex: all the monitor and the API keep of it. */
  tokenSha256: string;
}

export interface ScenarioCheckDefinition extends CheckCommon {
  kind: 'scenario';
  /** The flow that runs, by its name in the scenario ("flows[0]" when it has none). */
  flow: string;
  /** The scenario with that one flow, compiled: its steps are the sample's per-step timings. */
  scenario: CompiledScenario;
}

export type CheckDefinition =
  | ScenarioCheckDefinition
  | HttpCheckDefinition
  | TlsCheckDefinition
  | TcpCheckDefinition
  | DnsCheckDefinition
  | HeartbeatCheckDefinition;

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

/** A check's deadline when it gives none, unless half the interval is shorter. */
const DEFAULT_TIMEOUT_MS = 5000;

/** The service's own checks, used when no checks file is configured. */
export const DEFAULT_CHECKS = [
  { name: 'health', endpoint: '/health', latency: { warn: 500, critical: 2000 } },
  { name: 'ready', endpoint: '/health/ready', kind: 'database', latency: { warn: 1000, critical: 3000 } },
];

interface ResolveContext {
  baseUrl: string;
  overridden: boolean;
  /** The monitor's own interval (its tick), when known: every timeout must fit in it. */
  intervalSeconds: number | undefined;
  /** The checks file's directory, which a scenario check's `file` is relative to; the working directory otherwise. */
  directory: string;
  problems: string[];
}

/** A probe still running when the next cycle starts, or when the Lambda is stopped, would never be recorded. */
function checkDeadline(path: string, check: CheckInput, timeoutMs: number, context: ResolveContext) {
  const label = `check "${check.name}"`;
  const { intervalSeconds, problems } = context;
  if (intervalSeconds !== undefined && timeoutMs >= intervalSeconds * 1000) {
    problems.push(
      `${path}.timeout: ${timeoutMs} ms for ${label} is not below the monitor's interval of ${intervalSeconds} s (${intervalSeconds * 1000} ms); lower the timeout or lengthen the interval`,
    );
  }
  if (timeoutMs >= MONITOR_LAMBDA_TIMEOUT_SECONDS * 1000) {
    problems.push(
      `${path}.timeout: ${timeoutMs} ms for ${label} is not below the monitor function's timeout of ${MONITOR_LAMBDA_TIMEOUT_SECONDS} s (${MONITOR_LAMBDA_TIMEOUT_SECONDS * 1000} ms)`,
    );
  }
  if (
    check.interval !== undefined &&
    intervalSeconds !== undefined &&
    check.interval % intervalSeconds !== 0
  ) {
    problems.push(
      `${path}.interval: ${check.interval} s for ${label} is not a multiple of the monitor's interval of ${intervalSeconds} s`,
    );
  }
}

const hostAndPort = (host: string, port: number) => `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;

/**
 * Where a check's probe goes: the URL its samples name, the host a load test against it holds it for (none for
 * what a load test cannot reach), and its key (a check run against another base URL is kept apart by host).
 */
function targetOf(
  check: CheckInput,
  context: ResolveContext,
): { key: string; url: string; holdHost: string | null } {
  switch (check.kind) {
    case 'http':
    case 'cors':
    case 'database':
    case 'scenario': {
      const url =
        check.url ??
        (check.kind === 'scenario'
          ? context.baseUrl
          : `${context.baseUrl.replace(/\/$/, '')}${check.endpoint ?? ''}`);
      const host = new URL(url).host;
      return { key: context.overridden ? `${check.name}@${host}` : check.name, url, holdHost: host };
    }
    case 'tls':
    case 'tcp': {
      const at = hostAndPort(check.host, check.port);
      return { key: check.name, url: `${check.kind}://${at}`, holdHost: at };
    }
    case 'dns':
      return { key: check.name, url: `dns:${check.host}`, holdHost: null };
    case 'heartbeat':
      return { key: check.name, url: `heartbeat:${check.name}`, holdHost: null };
  }
}

/** The check as the monitor runs it: its target resolved against the base URL, its defaults filled in. */
function resolveCheck(check: CheckInput, index: number, context: ResolveContext): CheckDefinition {
  const path = `checks[${index}]`;
  const { intervalSeconds } = context;
  const halfInterval = Math.floor(((intervalSeconds ?? Number.POSITIVE_INFINITY) * 1000) / 2);
  const timeoutMs = check.timeout ?? Math.min(DEFAULT_TIMEOUT_MS, halfInterval);
  checkDeadline(path, check, timeoutMs, context);
  const common = {
    name: check.name,
    ...targetOf(check, context),
    timeoutMs,
    ...(check.interval === undefined || check.interval === intervalSeconds
      ? {}
      : { intervalSeconds: check.interval }),
    latency: check.latency,
    rules: check.rules,
    dependsOn: check.dependsOn,
    ...(check.slo === undefined ? {} : { slo: check.slo }),
  };
  switch (check.kind) {
    case 'http':
    case 'cors':
    case 'database': {
      const assert = check.kind === 'http' ? check.assert : [];
      const statusAsserted = assert.some((assertion) => assertion.kind === 'status');
      if (statusAsserted && check.expectStatus !== undefined)
        context.problems.push(`${path}.expectStatus: give "expectStatus" or a status assertion, not both`);
      return {
        ...common,
        kind: check.kind,
        method: check.method,
        headers: check.headers,
        expectStatus: check.expectStatus ?? (statusAsserted ? [] : [200]),
        assert,
        ...(check.kind === 'cors' ? { cors: check.cors } : {}),
      };
    }
    case 'tls': {
      let ca: string | undefined;
      if (check.caFile !== undefined) {
        try {
          ca = readFileSync(check.caFile, 'utf8');
        } catch (error) {
          context.problems.push(`${path}.caFile: cannot read "${check.caFile}": ${(error as Error).message}`);
        }
      }
      return {
        ...common,
        kind: 'tls',
        host: check.host,
        port: check.port,
        days: check.days,
        ...(check.servername === undefined ? {} : { servername: check.servername }),
        ...(ca === undefined ? {} : { ca }),
      };
    }
    case 'tcp':
      return {
        ...common,
        kind: 'tcp',
        host: check.host,
        port: check.port,
      };
    case 'dns':
      return {
        ...common,
        kind: 'dns',
        host: check.host,
        recordType: check.recordType,
        servers: check.servers,
        ...(check.expect === undefined ? {} : { expect: check.expect }),
      };
    case 'scenario':
      return { ...common, kind: 'scenario', ...scenarioOf(path, check, context) };
    case 'heartbeat':
      return {
        ...common,
        kind: 'heartbeat',
        periodSeconds: check.period,
        graceSeconds: check.grace,
        tokenSha256: (
          check.tokenSha256 ?? heartbeatTokenHash(check.token ?? '').toString('hex')
        ).toLowerCase(),
      };
  }
}

/**
 * A scenario check's flow, compiled: the inline scenario, or its file read relative to the checks file. A data
 * feeder is refused: one iteration a cycle would use one row, and which one would change from cycle to cycle.
 */
function scenarioOf(
  path: string,
  check: InputOf<'scenario'>,
  context: ResolveContext,
): Pick<ScenarioCheckDefinition, 'flow' | 'scenario'> {
  const none = { flow: '', scenario: { flows: [], steps: [] } };
  let document = check.scenario;
  if (check.file !== undefined) {
    try {
      document = readScenarioFile(resolve(context.directory, check.file));
    } catch (error) {
      const problems = error instanceof ScenarioError ? error.problems : [(error as Error).message];
      context.problems.push(...problems.map((problem) => `${path}.file: ${problem}`));
      return none;
    }
  }
  const field = check.file === undefined ? `${path}.scenario` : `${path}.file`;
  let scenario: ReturnType<typeof parseScenario>;
  try {
    scenario = parseScenario(document, check.file === undefined ? { field } : { file: field });
  } catch (error) {
    context.problems.push(...(error as ScenarioError).problems);
    return none;
  }
  if (scenario.data !== undefined) {
    context.problems.push(
      `${field}.data: a scenario check runs one iteration a cycle and takes no data feeder; write the values into its steps`,
    );
    return none;
  }
  const index = check.flow === undefined ? 0 : scenario.flows.findIndex((flow) => flow.name === check.flow);
  const flow = scenario.flows[index];
  if (flow === undefined) {
    const names = scenario.flows.flatMap((item) => (item.name === undefined ? [] : [`"${item.name}"`]));
    context.problems.push(
      `${path}.flow: "${check.flow}" is not a flow of the scenario (${names.length > 0 ? names.join(', ') : 'its flows have no name'})`,
    );
    return none;
  }
  return { flow: flow.name ?? `flows[${index}]`, scenario: compileScenario({ flows: [flow] }) };
}

/** Names every dependency that is no check, the check itself, or part of a cycle. */
function checkDependencies(checks: CheckDefinition[], problems: string[]) {
  const byName = new Map(checks.map((check) => [check.name, check]));
  checks.forEach((check, index) => {
    check.dependsOn.forEach((name, position) => {
      const field = `checks[${index}].dependsOn[${position}]`;
      if (name === check.name) problems.push(`${field}: check "${name}" cannot depend on itself`);
      else if (!byName.has(name)) problems.push(`${field}: "${name}" is not a check`);
    });
  });
  const reported = new Set<string>();
  const visit = (name: string, trail: string[]) => {
    const check = byName.get(name);
    if (!check) return;
    for (const next of check.dependsOn) {
      if (next === name || !byName.has(next)) continue;
      if (next === trail[0]) {
        const cycle = [...trail, next];
        const id = [...cycle].slice(0, -1).sort().join(' ');
        if (!reported.has(id)) {
          reported.add(id);
          const index = checks.findIndex((item) => item.name === trail[0]);
          problems.push(
            `checks[${index}].dependsOn: ${cycle.map((item) => `"${item}"`).join(' → ')} is a cycle`,
          );
        }
      } else if (!trail.includes(next)) visit(next, [...trail, next]);
    }
  };
  for (const check of checks) visit(check.name, [check.name]);
}

/**
 * Validates a monitor definition ({checks, maintenance}). `baseUrl` is the API the endpoints are relative
 * to; `overridden` is true when it came from --target rather than the service's own API; `intervalSeconds`, the
 * seconds between the cycles that will run it, bounds each check's timeout and sets the step of its interval.
 */
export function parseMonitorDefinition(
  raw: unknown,
  baseUrl: string,
  source: string,
  overridden = false,
  intervalSeconds?: number,
  directory = '.',
): MonitorDefinition {
  if (!isJsonObject(raw)) {
    throw new CheckConfigError(source, [
      '(file): must be a JSON object {"checks": [...], "maintenance": [...]}',
    ]);
  }
  const parsed = v.safeParse(MONITOR_FILE, raw);
  if (!parsed.success) {
    throw new CheckConfigError(
      source,
      issueLines(parsed.issues, MONITOR_FILE).map((line) => terminalSafe(line)),
    );
  }
  const context: ResolveContext = { baseUrl, overridden, intervalSeconds, directory, problems: [] };
  const checks = parsed.output.checks.map((check, index) => resolveCheck(check, index, context));
  const problems = context.problems;
  const seen = new Set<string>();
  for (const check of checks) {
    if (seen.has(check.name)) problems.push(`checks: "${check.name}" is defined twice`);
    seen.add(check.name);
  }
  checkDependencies(checks, problems);
  parsed.output.maintenance.forEach((window, index) => {
    for (const name of window.checks)
      if (name !== '*' && !seen.has(name))
        problems.push(`maintenance[${index}].checks: "${name}" is not a check`);
  });
  if (problems.length > 0)
    throw new CheckConfigError(
      source,
      problems.map((line) => terminalSafe(line)),
    );
  return { checks, maintenance: parsed.output.maintenance };
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
  return parseMonitorDefinition(raw, baseUrl, file, overridden, intervalSeconds, dirname(file));
}
