// Runs a scenario's iterations on the engine's connections: one iteration at a time per connection, each step
// recorded under its own entry, captures carried to the next steps, checks counted, failures given a reason.

import type {
  CompiledFlow,
  CompiledRequest,
  CompiledScenario,
  CompiledStep,
  ScenarioResponse,
} from '../scenario/compile.ts';
import { renderRequest } from '../scenario/compile.ts';
import type { DataRow, ScenarioData } from '../scenario/schema.ts';
import { MissingTemplateValue, type TemplateScope } from '../scenario/template.ts';
import {
  type KeptResponse,
  type PreparedRequest,
  prepareRequest,
  type ResponseCallback,
  type TargetConnections,
} from './http1.ts';
import { classifyError, type ErrorKind } from './measurement.ts';
import type { StepRecorder } from './step-recorder.ts';

/** Calls back with the status (0 when the request failed), the error kind, and the response when it was kept. */
export type Done = (status: number, error: ErrorKind | null, response: KeptResponse | null) => void;

/** One request at a time over its own keep-alive connection. */
export interface Slot {
  /** `now`: performance.now() at the send, which the caller has already read. */
  send(request: PreparedRequest, done: Done, now: number): void;
}

/** Slots over the shard's connections, each with its own connection and one completion callback. */
export function slotFactory(connections: TargetConnections): () => Slot {
  return () => {
    const connection = connections.create();
    let done: Done = () => undefined;
    const completed: ResponseCallback = (status, error, response) =>
      done(status, error === null ? null : classifyError(error), response);
    return {
      send(request, callback, now) {
        done = callback;
        connection.send(request, completed, now);
      },
    };
  };
}

/** One unit of a shard's load on one slot: a request of the endpoint shorthand, or one scenario iteration. */
export interface UnitRunner {
  /** `intended`: when the unit was due (the open model measures its first request from it); `now`: when it starts. */
  run(intended: number, now: number, vu: number, iteration: number, done: () => void): void;
}

/** A shard's rows of a data feeder: its own slice when sequential, every row when random. */
export interface ShardData extends Pick<ScenarioData, 'order' | 'per'> {
  rows: DataRow[];
  /** Rows this shard took in its earlier rounds: a sequential feeder carries on from there. */
  position?: number;
}

/** A scenario's iterations: started, ended with every step done, and ended early with the reason why. */
export interface IterationCounts {
  started: number;
  completed: number;
  failed: number;
  /** Why iterations ended early, e.g. "capture token: $.data.token found nothing", counted. */
  failedBecause: Record<string, number>;
}

/** A shard keeps at most this many distinct reasons; the rest are counted under one. */
const MAX_FAILURE_REASONS = 20;
const OTHER_REASONS = 'other reasons (over 20 distinct ones)';
/** A think step checks this often whether the shard was stopped, so that a long think never outlives it. */
const THINK_SLICE_MS = 250;
const STOPPED = 'stopped before it ended (the deadline or an abort)';

export function countFailure(counts: IterationCounts, reason: string): void {
  counts.failed++;
  const key =
    reason in counts.failedBecause || Object.keys(counts.failedBecause).length < MAX_FAILURE_REASONS
      ? reason
      : OTHER_REASONS;
  counts.failedBecause[key] = (counts.failedBecause[key] ?? 0) + 1;
}

/** A weighted choice from a cumulative table; one random number per pick. */
export function weightedPicker<T extends { weight: number }>(items: T[]): () => T {
  const first = items[0];
  if (first === undefined) throw new Error('nothing to pick from');
  if (items.length === 1) return () => first;
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  const cumulative: number[] = [];
  let running = 0;
  for (const item of items) {
    running += item.weight / total;
    cumulative.push(running);
  }
  return () => {
    const roll = Math.random();
    for (let index = 0; index < cumulative.length; index++) {
      if (roll < (cumulative[index] ?? 1)) return items[index] ?? first;
    }
    return items[items.length - 1] ?? first;
  };
}

/** Rows handed out in order (each shard has its own slice, so no row is used twice) or at random. */
export class RowSource {
  /** Rows taken so far, earlier rounds included: where the next round starts. */
  position: number;
  readonly data: ShardData;
  constructor(data: ShardData) {
    this.data = data;
    this.position = data.position ?? 0;
  }
  take(): DataRow | undefined {
    const { rows } = this.data;
    if (rows.length === 0) return undefined;
    if (this.data.order === 'random') return rows[Math.floor(Math.random() * rows.length)];
    return rows[this.position++ % rows.length];
  }
}

/** The response as captures and checks read it: headers parsed, body decoded and JSON parsed on first use. */
class ResponseView implements ScenarioResponse {
  status = 0;
  latencyMs = 0;
  private kept: KeptResponse | null = null;
  private headers: Map<string, string> | null = null;
  private body: string | null = null;
  private parsed: { value: unknown } | null = null;

  reset(status: number, latencyMs: number, kept: KeptResponse | null): void {
    this.status = status;
    this.latencyMs = latencyMs;
    this.kept = kept;
    this.headers = null;
    this.body = null;
    this.parsed = null;
  }

  header(name: string): string | undefined {
    if (this.headers === null) {
      this.headers = new Map();
      const lines = (this.kept?.head ?? '').split('\r\n');
      for (let index = 1; index < lines.length; index++) {
        const line = lines[index] as string;
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const key = line.slice(0, colon).trim().toLowerCase();
        if (!this.headers.has(key)) this.headers.set(key, line.slice(colon + 1).trim());
      }
    }
    return this.headers.get(name);
  }

  text(): string {
    if (this.body === null) this.body = this.kept?.body.toString('utf8') ?? '';
    return this.body;
  }

  json(): unknown {
    if (this.parsed === null) {
      try {
        this.parsed = { value: JSON.parse(this.text()) };
      } catch {
        this.parsed = { value: undefined };
      }
    }
    return this.parsed.value;
  }
}

/** What the runner itself needs of a step's recorder: its checks counted. */
export type StepChecks = Pick<StepRecorder, 'recordCheck'>;

/** The shard's recorder of one request: its totals, its timeline, and the step it belongs to. */
export type RecordRequest<Step extends StepChecks = StepRecorder> = (
  now: number,
  latencyMs: number,
  uncorrectedMs: number,
  status: number,
  error: ErrorKind | null,
  step: Step,
  httpFailed: boolean,
) => void;

/** `Step`: a shard's StepRecorder; the monitor's one iteration times its steps with a recorder of its own. */
export interface ScenarioContext<Step extends StepChecks = StepRecorder> {
  compiled: CompiledScenario;
  origin: URL;
  basePath: string;
  /** The bytes of every request step without a template, built before the first request. */
  prepared: Map<CompiledRequest, PreparedRequest>;
  steps: Step[];
  /** Records a request into the shard's totals and timeline as well as its step. */
  record: RecordRequest<Step>;
  iterations: IterationCounts;
  pickFlow: () => CompiledFlow;
  rows: RowSource | null;
  stopped: () => boolean;
}

/** The request's bytes, its templates filled from `scope`. */
function requestBytes(origin: URL, basePath: string, request: CompiledRequest, scope: TemplateScope) {
  const { path, headers, body } = renderRequest(request, scope);
  const prepared = prepareRequest(origin, request.method, basePath + path, headers, body);
  prepared.keepsResponse = request.readsResponse;
  return prepared;
}

/** Builds the bytes of every request step that holds no template. */
export function prepareConstantRequests(
  compiled: CompiledScenario,
  origin: URL,
  basePath: string,
): Map<CompiledRequest, PreparedRequest> {
  const prepared = new Map<CompiledRequest, PreparedRequest>();
  const scope: TemplateScope = { vu: 0, iteration: 0, value: () => undefined };
  const walk = (steps: CompiledStep[]) => {
    for (const step of steps) {
      if (step.kind === 'loop') walk(step.steps);
      else if (step.kind === 'request' && step.request.constant)
        prepared.set(step.request, requestBytes(origin, basePath, step.request, scope));
    }
  };
  for (const flow of compiled.flows) walk(flow.steps);
  return prepared;
}

interface Frame {
  steps: CompiledStep[];
  index: number;
  /** Passes of this frame's steps still to run after the current one (a loop's count). */
  left: number;
}

/** One slot's iterations: a small state machine over the flow's steps, loops as a stack of frames. */
export function scenarioUnit<Step extends StepChecks>(
  slot: Slot,
  context: ScenarioContext<Step>,
): UnitRunner {
  const captures = new Map<string, string>();
  const response = new ResponseView();
  let row: DataRow | undefined;
  let rowVu = -1;
  const scope: TemplateScope = {
    vu: 0,
    iteration: 0,
    value: (name) => captures.get(name) ?? row?.[name],
  };
  let stack: Frame[] = [];
  let finished: () => void = () => undefined;
  let first = true;
  let intendedAt = 0;
  let sentAt = 0;
  let current: CompiledRequest | null = null;

  /** True while run() itself runs: an iteration that ends before sending anything hands back on the next turn. */
  let starting = false;
  const end = (reason: string | null) => {
    if (reason === null) context.iterations.completed++;
    else countFailure(context.iterations, reason);
    if (starting) setImmediate(finished);
    else finished();
  };
  const stepLabel = (request: CompiledRequest) => context.compiled.steps[request.step]?.name ?? '';

  const completed: Done = (status, error, kept) => {
    const request = current as CompiledRequest;
    const now = performance.now();
    const latencyMs = now - (first ? intendedAt : sentAt);
    first = false;
    const expected = request.expectedStatus;
    const httpFailed = status > 0 && (expected === null ? status >= 400 : !expected.includes(status));
    const recorder = context.steps[request.step] as Step;
    context.record(now, latencyMs, now - sentAt, status, error, recorder, httpFailed);
    response.reset(error === null ? status : 0, now - sentAt, kept);
    let abortedBy: string | null = null;
    for (const check of request.checks) {
      const passed = check.test(response);
      recorder.recordCheck(check.index, passed);
      if (!passed && check.abortIteration && abortedBy === null)
        abortedBy = `${stepLabel(request)}: check "${check.name}" failed`;
    }
    if (abortedBy !== null) return end(abortedBy);
    for (const capture of request.captures) {
      const value = error === null ? capture.read(response) : undefined;
      if (value === undefined)
        return end(
          `${stepLabel(request)}: capture ${capture.name} (${capture.source}) found nothing${error === null ? '' : ` (no response: ${error})`}`,
        );
      captures.set(capture.name, value);
    }
    advance();
  };

  const think = (ms: number) => {
    const until = performance.now() + ms;
    const wake = () => {
      if (context.stopped()) return end(STOPPED);
      const left = until - performance.now();
      if (left > 1) setTimeout(wake, Math.min(THINK_SLICE_MS, left));
      else advance();
    };
    wake();
  };

  const send = (request: CompiledRequest) => {
    let prepared = context.prepared.get(request);
    if (prepared === undefined) {
      try {
        prepared = requestBytes(context.origin, context.basePath, request, scope);
      } catch (error) {
        if (error instanceof MissingTemplateValue) return end(`${stepLabel(request)}: ${error.message}`);
        return end(`${stepLabel(request)}: the request cannot be sent: ${(error as Error).message}`);
      }
    }
    current = request;
    sentAt = performance.now();
    slot.send(prepared, completed, sentAt);
  };

  const advance = () => {
    for (;;) {
      const frame = stack[stack.length - 1];
      if (frame === undefined) return end(null);
      if (frame.index >= frame.steps.length) {
        if (frame.left > 0) {
          frame.left--;
          frame.index = 0;
        } else stack.pop();
        continue;
      }
      const step = frame.steps[frame.index++] as CompiledStep;
      if (step.kind === 'loop') {
        stack.push({ steps: step.steps, index: 0, left: step.count - 1 });
        continue;
      }
      if (context.stopped()) return end(STOPPED);
      if (step.kind === 'think') return think(step.ms);
      return send(step.request);
    }
  };

  return {
    run(intended, _now, vu, iteration, done) {
      finished = done;
      intendedAt = intended;
      first = true;
      captures.clear();
      scope.vu = vu;
      scope.iteration = iteration;
      if (context.rows && (context.rows.data.per === 'iteration' || rowVu !== vu)) {
        row = context.rows.take();
        rowVu = vu;
      }
      context.iterations.started++;
      stack = [{ steps: context.pickFlow().steps, index: 0, left: 0 }];
      starting = true;
      advance();
      starting = false;
    },
  };
}
