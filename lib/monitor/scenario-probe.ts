// A scenario check's probe: one iteration of its flow on the load engine's scenario runner, within one deadline,
// each step timed and the first failure named by its step and check.

import { ConnectionError, ConnectionSet } from '../loadtest/http1.ts';
import type { ErrorKind } from '../loadtest/measurement.ts';
import {
  type IterationCounts,
  prepareConstantRequests,
  type RecordRequest,
  scenarioUnit,
  slotFactory,
} from '../loadtest/scenario-runner.ts';
import type { ScenarioCheckDefinition } from './checks.ts';
import { elapsedSince, finding, overCritical, type ProbeFinding } from './network-probes.ts';

/** A step's part of the sample: what it took and how it answered, summed over a loop's passes. */
export interface StepTiming {
  name: string;
  requests: number;
  /** Milliseconds from each request's send to its response's end. */
  ms: number;
  /** The last response's status; null when none came. */
  status: number | null;
  /** The last request's network error (timeout, refused, reset, dns, other). */
  error?: ErrorKind;
}

const rounded = (ms: number) => Math.round(ms * 100) / 100;

/**
 * One step's figures for the monitor: its timing, and the checks that failed in the order they failed. No latency
 * histogram, unlike a shard's StepRecorder: one iteration has a handful of requests.
 */
class TimedStep {
  readonly timing: StepTiming;
  readonly failedChecks: string[] = [];
  /** A response outside the step's status check, or a 4xx/5xx without one. */
  httpFailedStatus: number | null = null;
  private readonly checkNames: string[];

  constructor(name: string, checkNames: string[]) {
    this.timing = { name, requests: 0, ms: 0, status: null };
    this.checkNames = checkNames;
  }

  record(latencyMs: number, status: number, error: ErrorKind | null, httpFailed: boolean): void {
    this.timing.requests++;
    this.timing.ms = rounded(this.timing.ms + latencyMs);
    this.timing.status = status > 0 ? status : null;
    if (error === null) delete this.timing.error;
    else this.timing.error = error;
    if (httpFailed && this.httpFailedStatus === null) this.httpFailedStatus = status;
  }

  recordCheck(index: number, passed: boolean): void {
    const name = this.checkNames[index] ?? `checks[${index}]`;
    if (!passed && !this.failedChecks.includes(name)) this.failedChecks.push(name);
  }
}

/** The reason the runner gives an iteration ended by a check: named here with the step's other failed checks. */
const CHECK_FAILED = /: check ".*" failed$/;

/**
 * Runs the check's flow once over fresh connections. `signal` is the probe's deadline (or the monitor's stop): it
 * fails the request in flight and ends a think step, and the sample then names the step it cut.
 */
export async function probeScenario(
  check: ScenarioCheckDefinition,
  signal: AbortSignal,
  started: number,
): Promise<ProbeFinding> {
  const origin = new URL(check.url);
  const basePath = origin.pathname.replace(/\/$/, '');
  const compiled = check.scenario;
  const flow = compiled.flows[0];
  if (flow === undefined) throw new Error(`check "${check.name}" has no flow`);
  const steps = compiled.steps.map((step) => new TimedStep(step.name, step.checks));
  const order: TimedStep[] = [];
  const record: RecordRequest<TimedStep> = (
    _now,
    _latencyMs,
    sinceSentMs,
    status,
    error,
    step,
    httpFailed,
  ) => {
    step.record(sinceSentMs, status, error, httpFailed);
    if (!order.includes(step)) order.push(step);
  };
  const iterations: IterationCounts = { started: 0, completed: 0, failed: 0, failedBecause: {} };
  // The whole flow has one deadline, so no request may outlast it on its own either.
  const connections = new ConnectionSet(origin, check.timeoutMs);
  const cut = () =>
    connections.failInFlight(
      new ConnectionError('MONITOR_SCENARIO_TIMEOUT', `the flow did not end within ${check.timeoutMs} ms`),
    );
  signal.addEventListener('abort', cut, { once: true });
  try {
    const unit = scenarioUnit(slotFactory(connections)(), {
      compiled,
      origin,
      basePath,
      prepared: prepareConstantRequests(compiled, origin, basePath),
      steps,
      record,
      iterations,
      pickFlow: () => flow,
      rows: null,
      stopped: () => signal.aborted,
    });
    await new Promise<void>((resolve) => {
      const now = performance.now();
      unit.run(now, now, 1, 1, resolve);
    });
  } finally {
    signal.removeEventListener('abort', cut);
    connections.close();
  }
  const latencyMs = rounded(order.reduce((sum, step) => sum + step.timing.ms, 0));
  const problems: string[] = [];
  for (const step of order) {
    const { name, error } = step.timing;
    // A step without a response fails its checks for that reason alone.
    if (error !== undefined) problems.push(`step ${name}: no response (${error})`);
    else {
      for (const failed of step.failedChecks) problems.push(`step ${name}: check "${failed}" failed`);
      if (step.httpFailedStatus !== null && step.failedChecks.length === 0)
        problems.push(`step ${name}: status ${step.httpFailedStatus}`);
    }
  }
  if (signal.aborted) problems.push(`the flow did not end within ${check.timeoutMs} ms`);
  // Why the runner ended the iteration, unless a line above says it (a failed check, a step without an answer): a
  // capture that found nothing, a template without a value.
  else {
    const unanswered = order
      .filter((step) => step.timing.error !== undefined)
      .map((step) => step.timing.name);
    for (const reason of Object.keys(iterations.failedBecause))
      if (!CHECK_FAILED.test(reason) && !unanswered.some((name) => reason.startsWith(`${name}: `)))
        problems.push(`step ${reason}`);
  }
  if (problems.length === 0) problems.push(...overCritical(latencyMs, check));
  return finding(problems, {
    status: order.at(-1)?.timing.status ?? null,
    latencyMs,
    details: { flow: check.flow, elapsedMs: elapsedSince(started), steps: order.map((step) => step.timing) },
  });
}
