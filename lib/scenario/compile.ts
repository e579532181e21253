// A validated scenario turned into what the engine runs: templates compiled, captures and checks as functions, and
// each request step given the index of its entry in the report (steps sharing a name share an entry).

import type { HttpMethod } from '../validation/rules.ts';
import { compileJsonPath, type JsonPath, readJsonPath } from './json-path.ts';
import {
  type Capture,
  type Check,
  type RequestStep,
  requestSteps,
  type Scenario,
  type Step,
  stepName,
} from './schema.ts';
import { compileTemplate, renderTemplate, type Template, type TemplateScope } from './template.ts';

/** A response as captures and checks read it; headers and body are only decoded when one asks. */
export interface ScenarioResponse {
  /** 0 when no response came. */
  status: number;
  latencyMs: number;
  header(name: string): string | undefined;
  text(): string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json(): unknown;
}

/** A step as reports name it. */
export interface StepIdentity {
  /** The step's name, or "METHOD /path" (the path as written, before templating) when it has none. */
  name: string;
  method: string;
  path: string;
}

/** One entry of the report: what the shard records steps under, and the names of its checks. */
export interface StepDefinition extends StepIdentity {
  checks: string[];
}

export interface CompiledCapture {
  name: string;
  /** Reads the value, or undefined when the response holds none. */
  read(response: ScenarioResponse): string | undefined;
  /** "$.data.token", "header x-id", "regex id=(\d+)": said when it finds nothing. */
  source: string;
}

export interface CompiledCheck {
  /** Index into its step's StepDefinition.checks. */
  index: number;
  name: string;
  abortIteration: boolean;
  test(response: ScenarioResponse): boolean;
}

type JsonTemplate =
  | { kind: 'text'; template: Template }
  | { kind: 'list'; items: JsonTemplate[] }
  | { kind: 'object'; entries: Array<[string, JsonTemplate]> }
  | { kind: 'value'; value: unknown };

export interface CompiledRequest {
  /** Index into CompiledScenario.steps. */
  step: number;
  method: HttpMethod;
  path: Template;
  query: Array<[string, Template]>;
  headers: Array<[string, Template]>;
  body: { kind: 'json'; template: JsonTemplate } | { kind: 'text'; template: Template } | null;
  /** No template anywhere: the request's bytes are built once. */
  constant: boolean;
  captures: CompiledCapture[];
  checks: CompiledCheck[];
  /** The step's status check, when it has one: a response outside it is an HTTP failure. */
  expectedStatus: number[] | null;
  /** Whether a capture or a check reads the body or the headers: only then does the engine keep them. */
  readsResponse: boolean;
}

export type CompiledStep =
  | { kind: 'request'; request: CompiledRequest }
  | { kind: 'think'; ms: number }
  | { kind: 'loop'; count: number; steps: CompiledStep[] };

export interface CompiledFlow {
  weight: number;
  steps: CompiledStep[];
}

export interface CompiledScenario {
  flows: CompiledFlow[];
  steps: StepDefinition[];
}

function compileJsonBody(value: unknown): JsonTemplate {
  if (typeof value === 'string') return { kind: 'text', template: compileTemplate(value) };
  if (Array.isArray(value)) return { kind: 'list', items: value.map(compileJsonBody) };
  if (value !== null && typeof value === 'object')
    return {
      kind: 'object',
      entries: Object.entries(value).map(([key, item]) => [key, compileJsonBody(item)]),
    };
  return { kind: 'value', value };
}

function jsonHasTemplate(template: JsonTemplate): boolean {
  if (template.kind === 'text') return template.template.constant === null;
  if (template.kind === 'list') return template.items.some(jsonHasTemplate);
  if (template.kind === 'object') return template.entries.some(([, item]) => jsonHasTemplate(item));
  return false;
}

function renderJson(template: JsonTemplate, scope: TemplateScope): unknown {
  switch (template.kind) {
    case 'text':
      return renderTemplate(template.template, scope);
    case 'list':
      return template.items.map((item) => renderJson(item, scope));
    case 'object':
      return Object.fromEntries(template.entries.map(([key, item]) => [key, renderJson(item, scope)]));
    case 'value':
      return template.value;
  }
}

/** A captured or checked JSON value as text: strings as they are, anything else as JSON. */
const asText = (value: unknown): string | undefined =>
  value === undefined || value === null
    ? undefined
    : typeof value === 'string'
      ? value
      : JSON.stringify(value);

function compileCapture(name: string, capture: Capture): CompiledCapture {
  if ('json' in capture) {
    const path = compileJsonPath(capture.json);
    return { name, source: capture.json, read: (response) => asText(readJsonPath(response.json(), path)) };
  }
  if ('header' in capture) {
    const header = capture.header;
    return { name, source: `header ${header}`, read: (response) => response.header(header) };
  }
  const pattern = new RegExp(capture.regex);
  return {
    name,
    source: `regex ${capture.regex}`,
    read: (response) => {
      const match = pattern.exec(response.text());
      return match ? (match[1] ?? match[0]) : undefined;
    },
  };
}

/** What a check compares a value with, and how it is named when the file gives it no name. */
function comparison(check: Check): {
  test: (value: string | undefined, raw: unknown) => boolean;
  says: string;
} {
  if (check.equals !== undefined) {
    const expected = JSON.stringify(check.equals);
    return {
      test: (value, raw) =>
        raw !== undefined
          ? JSON.stringify(raw) === expected
          : value !== undefined && (value === check.equals || value === String(check.equals)),
      says: `== ${expected}`,
    };
  }
  if (check.matches !== undefined) {
    const pattern = new RegExp(check.matches);
    return { test: (value) => value !== undefined && pattern.test(value), says: `matches ${check.matches}` };
  }
  if (check.exists === false) return { test: (value) => value === undefined, says: 'is absent' };
  return { test: (value) => value !== undefined, says: 'exists' };
}

/** A check's test and the name it is reported under. */
export function checkFunction(check: Check): { name: string; test: (response: ScenarioResponse) => boolean } {
  const named = (derived: string) => check.name ?? derived;
  if (check.status !== undefined) {
    const statuses = new Set(check.status);
    return {
      name: named(`status ${check.status.join('|')}`),
      test: (response) => statuses.has(response.status),
    };
  }
  if (check.latencyUnder !== undefined) {
    const limit = check.latencyUnder;
    return {
      name: named(`latency < ${limit}ms`),
      test: (response) => response.status > 0 && response.latencyMs < limit,
    };
  }
  if (check.bodyContains !== undefined) {
    const text = check.bodyContains;
    return {
      name: named(`body contains ${JSON.stringify(text)}`),
      test: (response) => response.status > 0 && response.text().includes(text),
    };
  }
  const { test, says } = comparison(check);
  if (check.header !== undefined) {
    const header = check.header;
    return {
      name: named(`header ${header} ${says}`),
      test: (response) => response.status > 0 && test(response.header(header), undefined),
    };
  }
  const path: JsonPath = compileJsonPath(check.json as string);
  return {
    name: named(`${check.json} ${says}`),
    test: (response) => {
      if (response.status === 0) return false;
      const raw = readJsonPath(response.json(), path);
      return test(asText(raw), raw === null ? undefined : raw);
    },
  };
}

/** The report's entries: one per distinct step name, in document order, with the union of their check names. */
export function stepDefinitions(scenario: Scenario): StepDefinition[] {
  const byName = new Map<string, StepDefinition>();
  for (const { step } of requestSteps(scenario.flows)) {
    const name = stepName(step);
    let definition = byName.get(name);
    if (!definition) {
      definition = { name, method: step.method, path: step.path, checks: [] };
      byName.set(name, definition);
    }
    for (const check of step.checks) {
      const checkName = checkFunction(check).name;
      if (!definition.checks.includes(checkName)) definition.checks.push(checkName);
    }
  }
  return [...byName.values()];
}

function compileRequest(step: RequestStep, definitions: StepDefinition[]): CompiledRequest {
  const index = definitions.findIndex((definition) => definition.name === stepName(step));
  const definition = definitions[index] as StepDefinition;
  const path = compileTemplate(step.path);
  const templates = (entries: Record<string, string>) =>
    Object.entries(entries).map(([name, value]): [string, Template] => [name, compileTemplate(value)]);
  const query = templates(step.query);
  const headers = templates(step.headers);
  if (step.json !== undefined && !step.headers['content-type'])
    headers.push(['content-type', compileTemplate('application/json')]);
  const body: CompiledRequest['body'] =
    step.json !== undefined
      ? { kind: 'json', template: compileJsonBody(step.json) }
      : step.body !== undefined
        ? { kind: 'text', template: compileTemplate(step.body) }
        : null;
  const constant =
    path.constant !== null &&
    query.every(([, template]) => template.constant !== null) &&
    headers.every(([, template]) => template.constant !== null) &&
    (body === null ||
      (body.kind === 'text' ? body.template.constant !== null : !jsonHasTemplate(body.template)));
  const checks = step.checks.map((check): CompiledCheck => {
    const { name, test } = checkFunction(check);
    return { index: definition.checks.indexOf(name), name, abortIteration: check.abortIteration, test };
  });
  const statusCheck = step.checks.find((check) => check.status !== undefined);
  return {
    step: index,
    method: step.method,
    path,
    query,
    headers,
    body,
    constant,
    captures: Object.entries(step.capture).map(([name, capture]) => compileCapture(name, capture)),
    checks,
    expectedStatus: statusCheck?.status ?? null,
    readsResponse:
      Object.keys(step.capture).length > 0 ||
      step.checks.some((check) => check.status === undefined && check.latencyUnder === undefined),
  };
}

function compileSteps(steps: Step[], definitions: StepDefinition[]): CompiledStep[] {
  return steps.map((step): CompiledStep => {
    if ('think' in step) return { kind: 'think', ms: step.think };
    if ('loop' in step)
      return { kind: 'loop', count: step.loop.count, steps: compileSteps(step.loop.steps, definitions) };
    return { kind: 'request', request: compileRequest(step, definitions) };
  });
}

export function compileScenario(scenario: Scenario): CompiledScenario {
  const steps = stepDefinitions(scenario);
  return {
    steps,
    flows: scenario.flows.map((flow) => ({ weight: flow.weight, steps: compileSteps(flow.steps, steps) })),
  };
}

/** A request step's path (with its query), headers and body for this iteration; throws MissingTemplateValue. */
export function renderRequest(
  request: CompiledRequest,
  scope: TemplateScope,
): { path: string; headers: Record<string, string>; body: string | undefined } {
  let path = renderTemplate(request.path, scope, encodeURI);
  if (request.query.length > 0) {
    const query = request.query
      .map(
        ([name, template]) =>
          `${encodeURIComponent(name)}=${encodeURIComponent(renderTemplate(template, scope))}`,
      )
      .join('&');
    path += `${path.includes('?') ? '&' : '?'}${query}`;
  }
  const headers: Record<string, string> = {};
  for (const [name, template] of request.headers) headers[name] = renderTemplate(template, scope);
  const body =
    request.body === null
      ? undefined
      : request.body.kind === 'text'
        ? renderTemplate(request.body.template, scope)
        : JSON.stringify(renderJson(request.body.template, scope));
  return { path, headers, body };
}
