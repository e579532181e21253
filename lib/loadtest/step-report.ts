// A report's figures per step and per check, and the one line that says which requests failed and how.

import { formatDecimal } from '../http/units.ts';
import { redactQuery } from '../log/logger.ts';
import { type StepDefinition, stepDefinitions } from '../scenario/compile.ts';
import type { Scenario } from '../scenario/schema.ts';
import { ERROR_KINDS, type ErrorKind, type RunFigures } from './measurement.ts';
import type { LoadTestReport } from './report.ts';
import type { ReportCheck, StepCheckResult, StepReport } from './steps.ts';

/** A report as this version reads it: one stored before steps were recorded has neither list. */
export type ReportWithSteps = Omit<LoadTestReport, 'steps' | 'checks'> & {
  steps?: StepReport[];
  checks?: ReportCheck[];
};

/** What a step made of the whole run is built from: a report's own figures. */
export type WholeRunFigures = RunFigures & Pick<LoadTestReport, 'endpoints'>;

/** The one step of a run over several endpoints that recorded no steps of its own. */
export const WHOLE_RUN_STEP = 'all requests';

/** The name a step without one goes by: its method and its path as written. */
export function stepName(method: string, path: string): string {
  return `${method} ${path}`;
}

export function networkErrors(errors: Partial<Record<ErrorKind, number>>): number {
  return ERROR_KINDS.reduce((sum, kind) => sum + (errors[kind] ?? 0), 0);
}

/**
 * The whole run as one step, for a report that has no steps: named after its endpoint, or "all requests"
 * when it spread its requests over several.
 */
export function wholeRunStep(figures: WholeRunFigures): StepReport {
  const only = figures.endpoints.length === 1 ? figures.endpoints[0] : undefined;
  const network = networkErrors(figures.errors);
  return {
    name: only ? stepName(only.method, only.path) : WHOLE_RUN_STEP,
    method: only?.method ?? '*',
    path: only?.path ?? '*',
    requests: figures.totals.requests,
    ok: figures.totals.ok,
    failed: figures.totals.failed,
    httpFailures: Math.max(0, figures.totals.failed - network),
    rps: figures.rps,
    latencyMs: figures.latencyMs,
    statusCodes: figures.statusCodes,
    errors: figures.errors,
    errorPercent: figures.errorPercent,
    checks: [],
  };
}

/** What defines a run's steps: its scenario, or else its endpoints. */
export interface StepSource {
  endpoints: Array<{ method: string; path: string }>;
  scenario?: Scenario;
}

/** The report's steps as the options define them: the scenario's, or one per endpoint ("METHOD /path"). */
export function reportStepDefinitions(options: StepSource): StepDefinition[] {
  // Credential query parameters are masked in a path and in the name derived from it, as for endpoints.
  if (options.scenario)
    return stepDefinitions(options.scenario).map((step) => ({
      ...step,
      name:
        step.name === stepName(step.method, step.path)
          ? stepName(step.method, redactQuery(step.path))
          : step.name,
      path: redactQuery(step.path),
    }));
  return options.endpoints.map(({ method, path }) => ({
    name: stepName(method, redactQuery(path)),
    method,
    path: redactQuery(path),
    checks: [],
  }));
}

/** The report's steps; a report without them is one step made from the whole run. */
export function reportSteps(report: ReportWithSteps): StepReport[] {
  return report.steps?.length ? report.steps : [wholeRunStep(report)];
}

/** Every check of every step; none for a report without steps. */
export function reportChecks(report: ReportWithSteps): ReportCheck[] {
  if (report.checks) return report.checks;
  return (report.steps ?? []).flatMap((step) => step.checks.map((check) => ({ ...check, step: step.name })));
}

/** A check's pass rate as reports print it, "99.95%", or "–" when it never ran. */
export function formatPassRate(check: StepCheckResult): string {
  const total = check.passed + check.failed;
  return total > 0 ? `${formatDecimal(Number(((check.passed / total) * 100).toPrecision(4)))}%` : '–';
}

const percent = (value: number) => `${formatDecimal(Number(value.toPrecision(3)))} %`;

/** The statuses a step failed on, most frequent first: those of 400 and above when they account for them all. */
function failedStatuses(step: StepReport): string[] {
  if (step.httpFailures <= 0) return [];
  const failing = Object.entries(step.statusCodes)
    .filter(([code]) => Number(code) >= 400)
    .sort(([codeA, a], [codeB, b]) => b - a || codeA.localeCompare(codeB));
  const sum = failing.reduce((total, [, value]) => total + value, 0);
  // A step that expects other statuses (a scenario's `status` check) failed on codes this cannot single out.
  if (sum !== step.httpFailures) return [`unexpected status ×${formatDecimal(step.httpFailures)}`];
  return failing.map(([code, value]) => `${code} ×${formatDecimal(value)}`);
}

/**
 * Which requests failed and how, HTTP failures and network errors each named, e.g.
 * "failed 52 (52 %): 503 ×52 on GET /orders · network none"; "none" when every request passed.
 */
export function describeFailures(report: ReportWithSteps): string {
  const steps = reportSteps(report);
  if (report.totals.failed === 0) return 'none';
  const http = steps.flatMap((step) => {
    const statuses = failedStatuses(step);
    return statuses.length ? [`${statuses.join(', ')} on ${step.name}`] : [];
  });
  const network = steps.flatMap((step) => {
    const kinds = ERROR_KINDS.filter((kind) => (step.errors[kind] ?? 0) > 0).map(
      (kind) => `${kind} ×${formatDecimal(step.errors[kind])}`,
    );
    return kinds.length ? [`${kinds.join(', ')} on ${step.name}`] : [];
  });
  const head = `failed ${formatDecimal(report.totals.failed)} (${percent(report.errorPercent)})`;
  return `${head}: ${http.length ? http.join('; ') : 'HTTP none'} · network ${network.length ? network.join('; ') : 'none'}`;
}
