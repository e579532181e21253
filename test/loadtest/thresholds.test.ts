// Threshold tags: parsed into one canonical form, judged on a step's figures or on checks, and names that do not
// exist refused before the run when they can be, or failed with the known names when only the run knows them.

import { describe, expect, it } from 'vitest';
import { LoadTestInputError } from '../../lib/loadtest/input-error.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { evaluateThresholds, parseThreshold } from '../../lib/loadtest/thresholds.ts';
import { reportOf } from '../support/report.ts';
import { latencyAround, stepOf } from '../support/steps.ts';
import { syntheticShard } from '../support/synthetic-shards.ts';

const login = stepOf({
  name: 'login',
  method: 'POST',
  path: '/login',
  requests: 200,
  statusCodes: { '200': 200 },
  p50: 150,
  rps: 20,
  checks: [{ name: 'has-token', passed: 199, failed: 1 }],
});
const checkout = stepOf({
  name: 'checkout',
  path: '/checkout',
  requests: 100,
  statusCodes: { '200': 97, '503': 3 },
  p50: 40,
  checks: [
    { name: 'paid', passed: 100, failed: 0 },
    { name: 'has-token', passed: 100, failed: 0 },
  ],
});
const inputs = {
  latencyMs: latencyAround(100),
  errorPercent: 1,
  rps: 30,
  requests: 300,
  steps: [login, checkout],
  checks: [login, checkout].flatMap((step) => step.checks.map((check) => ({ ...check, step: step.name }))),
};

function inputProblems(input: Record<string, unknown>): string[] {
  try {
    parseLoadTestInput(input);
  } catch (error) {
    if (error instanceof LoadTestInputError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseThreshold', () => {
  it('keeps tags in the canonical form when a threshold names a step or a check', () => {
    expect(parseThreshold('p95 {step: login} < 0.3s')).toMatchObject({
      expression: 'p95{step:login}<0.3s',
      metric: 'p95',
      tags: { step: 'login' },
      value: 300,
    });
    expect(parseThreshold('p99{step:GET /orders}<800')).toMatchObject({
      expression: 'p99{step:GET /orders}<800ms',
      tags: { step: 'GET /orders' },
    });
    expect(parseThreshold('checks{check:has-token,step:login}==100%')).toMatchObject({
      expression: 'checks{step:login,check:has-token}==100%',
      metric: 'checks',
      operator: '==',
      tags: { step: 'login', check: 'has-token' },
      value: 100,
    });
    expect(parseThreshold('checks>99.9')).toMatchObject({ expression: 'checks>99.9%', tags: {} });
  });

  it('names what is wrong when a tag, a unit or a suffix does not fit', () => {
    expect(() => parseThreshold('p95{route:/x}<300')).toThrow('"route" is not a tag (one of step, check');
    expect(() => parseThreshold('p95{step:}<300')).toThrow('the step tag needs a name');
    expect(() => parseThreshold('p95{step:a,step:b}<300')).toThrow('the step tag is given twice');
    expect(() => parseThreshold('p95{check:paid}<300')).toThrow('the check tag applies to checks only');
    expect(() => parseThreshold('checks<10ms')).toThrow('checks take a percentage');
    expect(() => parseThreshold('checks>101%')).toThrow('at most 100%');
    expect(() => parseThreshold('p95<300:sometimes')).toThrow(
      'after the condition only ":abort" or ":abort:<grace>" may follow',
    );
    expect(() => parseThreshold('p95{step:login<300')).toThrow('is not a threshold (metric, {tags}');
  });
});

describe('evaluateThresholds', () => {
  it("judges a tagged threshold on that step's figures, not the run's", () => {
    expect(
      evaluateThresholds(
        ['p95{step:login}<300', 'p95<300', 'errors{step:checkout}<1%', 'rps{step:login}>=20'],
        inputs,
      ),
    ).toEqual([
      { expr: 'p95{step:login}<300ms', actual: 300, passed: false },
      { expr: 'p95<300ms', actual: 200, passed: true },
      { expr: 'errors{step:checkout}<1%', actual: 3, passed: false },
      { expr: 'rps{step:login}>=20', actual: 20, passed: true },
    ]);
  });

  it('rates checks over every step, one check name or one step, and never rounds a miss up to 100%', () => {
    expect(
      evaluateThresholds(
        [
          'checks>99.9%',
          'checks{check:has-token}==100%',
          'checks{check:paid}==100%',
          'checks{step:login}>=99.5%',
        ],
        inputs,
      ),
    ).toEqual([
      { expr: 'checks>99.9%', actual: 99.75, passed: false },
      { expr: 'checks{check:has-token}==100%', actual: 99.667, passed: false },
      { expr: 'checks{check:paid}==100%', actual: 100, passed: true },
      { expr: 'checks{step:login}>=99.5%', actual: 99.5, passed: true },
    ]);
    const nearlyAll = { ...inputs, checks: [{ name: 'x', step: 'login', passed: 999_999, failed: 1 }] };
    expect(evaluateThresholds(['checks==100%'], nearlyAll)[0]).toMatchObject({
      actual: 99.999,
      passed: false,
    });
  });

  it('fails a threshold naming a step or check the run does not have, listing the ones it has', () => {
    const [step, check, checkOfStep] = evaluateThresholds(
      ['p95{step:logn}<300', 'checks{check:has-tokn}==100%', 'checks{step:checkout,check:nope}>1%'],
      inputs,
    );
    expect(step).toEqual({
      expr: 'p95{step:logn}<300ms',
      actual: null,
      passed: false,
      problem: 'no step "logn" in this run (steps: "login", "checkout")',
    });
    expect(check?.problem).toBe('no check "has-tokn" in this run (checks: "has-token", "paid")');
    expect(checkOfStep?.problem).toBe(
      'no check "nope" on step "checkout" in this run (checks: "paid", "has-token")',
    );
    const withoutChecks = {
      ...inputs,
      steps: [
        ...inputs.steps,
        stepOf({ name: 'browse', path: '/b', requests: 1, statusCodes: { '200': 1 } }),
      ],
    };
    expect(evaluateThresholds(['checks{step:browse}==100%'], withoutChecks)[0]?.problem).toBe(
      'step "browse" has no checks (steps with checks: "login", "checkout")',
    );
    expect(evaluateThresholds(['checks>99%'], { ...inputs, checks: [] })[0]?.problem).toBe(
      'this run has no checks (checks come with scenario steps)',
    );
  });
});

describe('thresholds in a run', () => {
  const { result } = syntheticShard({ seed: 3, fromSecond: 0, seconds: 5, requestsPerSecond: 40 });

  it("accepts a threshold on a scenario's step, and refuses one naming a step the scenario lacks", () => {
    const scenario = {
      flows: [{ steps: [{ name: 'login', method: 'POST', path: '/login' }, { path: '/cart' }] }],
    };
    const input = { target: 'http://127.0.0.1:9', scenario, users: 1, requests: 1 };
    expect(
      inputProblems({
        ...input,
        thresholds: [
          'p95{step:login}<300:abort',
          'checks{step:GET /cart}==100%',
          'errors{step:GET /cart}<1%',
        ],
      }),
    ).toEqual([]);
    expect(inputProblems({ ...input, thresholds: ['p95{step:logn}<300'] })).toEqual([
      'thresholds: "p95{step:logn}<300ms": no step "logn" in this run (steps: "login", "GET /cart")',
    ]);
  });

  it('refuses a step that the endpoints do not make before the run starts, naming the step there is', () => {
    expect(
      inputProblems({
        target: 'http://127.0.0.1:9',
        endpoint: '/orders',
        thresholds: ['p95{step:login}<300'],
      }),
    ).toEqual(['thresholds: "p95{step:login}<300ms": no step "login" in this run (steps: "GET /orders")']);
    expect(
      inputProblems({
        target: 'http://127.0.0.1:9',
        endpoint: '/orders',
        thresholds: ['p95{step:GET /orders}<300'],
      }),
    ).toEqual([]);
  });

  it("judges a step threshold on the run's one step and says why a check threshold was not judged", () => {
    const report = reportOf(
      {
        target: 'http://127.0.0.1:9',
        endpoint: '/orders',
        users: 1,
        requests: 200,
        thresholds: ['p50{step:GET /orders}<10000', 'checks==100%'],
      },
      [result],
    );
    expect(report.thresholds[0]).toEqual({
      expr: 'p50{step:GET /orders}<10000ms',
      actual: report.latencyMs.p50,
      passed: true,
    });
    expect(report.passed).toBe(false);
    expect(report.failedBecause).toContain(
      'threshold checks==100% (not judged: this run has no checks (checks come with scenario steps)) failed',
    );
  });
});
