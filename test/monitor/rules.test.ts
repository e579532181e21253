import { describe, expect, it } from 'vitest';
import { type CheckRules, DEFAULT_RULES } from '../../lib/monitor/check-schema.ts';
import type { CheckDefinition } from '../../lib/monitor/checks.ts';
import {
  type CheckState,
  type DecideInput,
  decide,
  evaluateRules,
  FLAPPING_CHANGES,
  isFlapping,
  isStale,
  type OpenIncident,
  type RecentSample,
  type RuleVerdict,
  STALE_AFTER_INTERVALS,
  samplesForRules,
} from '../../lib/monitor/rules.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000);

function checkWith(rules: Partial<CheckRules> = {}): CheckDefinition {
  return {
    name: 'health',
    key: 'health',
    kind: 'http',
    url: 'http://127.0.0.1:1/health',
    holdHost: '127.0.0.1:1',
    method: 'GET',
    headers: {},
    expectStatus: [200],
    assert: [],
    dependsOn: [],
    timeoutMs: 1000,
    latency: { warnMs: 500, criticalMs: 2000 },
    rules: { ...DEFAULT_RULES, ...rules },
  };
}

const ok = (latencyMs = 20): RecentSample => ({ ok: true, latencyMs, error: null });
const failed = (error = 'HTTP 503'): RecentSample => ({ ok: false, latencyMs: 30, error });
const slow = (latencyMs = 900): RecentSample => ({ ok: true, latencyMs, error: null });
/** Samples newest first, as the store hands them to the rules. */
const samples = (...list: RecentSample[]) => list;

describe('evaluateRules', () => {
  it('fires down when the newest N checks all failed, naming the count and the last error', () => {
    const check = checkWith({ down: { consecutive: 3 }, errorRate: null });
    const verdict = evaluateRules(check, samples(failed('timeout'), failed(), failed(), ok()));
    expect(verdict).toEqual({
      firing: ['down'],
      severity: 'critical',
      reasons: ['down: 3 failed checks in a row (timeout)'],
    });
  });

  it('does not fire down when a success breaks the streak or fewer than N checks exist', () => {
    const check = checkWith({ down: { consecutive: 3 }, errorRate: null });
    expect(evaluateRules(check, samples(failed(), ok(), failed(), failed())).firing).toEqual([]);
    expect(evaluateRules(check, samples(failed(), failed())).firing).toEqual([]);
  });

  it('fires down when X of the last Y checks failed, in any order', () => {
    const check = checkWith({ down: { failures: 2, window: 4 }, errorRate: null });
    const verdict = evaluateRules(check, samples(ok(), failed('refused'), ok(), failed()));
    expect(verdict.firing).toEqual(['down']);
    expect(verdict.reasons).toEqual(['down: 2 of the last 4 checks failed (refused)']);
  });

  it('does not fire down when the failures beyond the window would make up the count', () => {
    const check = checkWith({ down: { failures: 2, window: 4 }, errorRate: null });
    expect(evaluateRules(check, samples(ok(), failed(), ok(), ok(), failed())).firing).toEqual([]);
  });

  it('fires degraded as a warning when latency is over warnMs for the configured cycles in a row', () => {
    const check = checkWith({ degradedCycles: 3 });
    const verdict = evaluateRules(check, samples(slow(700), slow(1200), slow(501)));
    expect(verdict).toEqual({
      firing: ['degraded'],
      severity: 'warning',
      reasons: ['degraded: over 500 ms for 3 checks (worst 1200 ms)'],
    });
  });

  it('does not fire degraded when one cycle is at warnMs, has no latency, or too few cycles exist', () => {
    const check = checkWith({ degradedCycles: 3 });
    expect(evaluateRules(check, samples(slow(), slow(500), slow())).firing).toEqual([]);
    const unmeasured: RecentSample = { ok: true, latencyMs: null, error: null };
    expect(evaluateRules(check, samples(slow(), unmeasured, slow())).firing).toEqual([]);
    expect(evaluateRules(check, samples(slow(), slow())).firing).toEqual([]);
  });

  it('fires degraded for samples that passed with a warning, such as a certificate close to expiry', () => {
    const check = checkWith({ degradedCycles: 2 });
    const expiring: RecentSample = {
      ok: true,
      latencyMs: 12,
      error: null,
      warning: 'the certificate expires in 4.9 days (warn under 14)',
    };
    expect(evaluateRules(check, samples(expiring, expiring))).toEqual({
      firing: ['degraded'],
      severity: 'warning',
      reasons: ['degraded: the certificate expires in 4.9 days (warn under 14), for 2 checks'],
    });
    expect(evaluateRules(check, samples(expiring, ok())).firing).toEqual([]);
  });

  it('fires the error rate as critical when failures exceed the percent over a full window', () => {
    const check = checkWith({ down: { consecutive: 10 }, errorRate: { percent: 50, window: 4 } });
    const verdict = evaluateRules(check, samples(failed(), ok(), failed(), failed(), ok()));
    expect(verdict).toEqual({
      firing: ['errorRate'],
      severity: 'critical',
      reasons: ['error rate 75% over the last 4 checks (threshold 50%)'],
    });
  });

  it('does not fire the error rate at exactly the percent, before the window is full, or when disabled', () => {
    const rate = { percent: 50, window: 4 };
    const check = checkWith({ down: { consecutive: 10 }, errorRate: rate });
    expect(evaluateRules(check, samples(failed(), ok(), failed(), ok())).firing).toEqual([]);
    expect(evaluateRules(check, samples(failed(), failed(), failed())).firing).toEqual([]);
    const disabled = checkWith({ down: { consecutive: 10 }, errorRate: null });
    expect(evaluateRules(disabled, samples(failed(), failed(), failed(), failed())).firing).toEqual([]);
  });

  it('lists every rule that fired with one reason each when several fire at once', () => {
    const check = checkWith({
      down: { consecutive: 2 },
      degradedCycles: 2,
      errorRate: { percent: 50, window: 2 },
    });
    const slowFailure: RecentSample = { ok: false, latencyMs: 800, error: 'HTTP 500' };
    const verdict = evaluateRules(check, samples(slowFailure, slowFailure));
    expect(verdict.firing).toEqual(['down', 'degraded', 'errorRate']);
    expect(verdict.reasons).toHaveLength(3);
    expect(verdict.severity).toBe('critical');
  });
});

const healthy: CheckState = {
  state: 'OK',
  since: minutesAgo(600),
  ruleStates: {},
  healthyStreak: 5,
  transitions: [],
};
const quiet: RuleVerdict = { firing: [], severity: 'warning', reasons: [] };
const downVerdict: RuleVerdict = {
  firing: ['down'],
  severity: 'critical',
  reasons: ['down: 3 failed checks in a row'],
};
const degradedVerdict: RuleVerdict = { firing: ['degraded'], severity: 'warning', reasons: ['degraded'] };

function alarm(overrides: Partial<CheckState> = {}): CheckState {
  return {
    state: 'ALARM',
    since: minutesAgo(30),
    ruleStates: { down: 'ALARM' },
    healthyStreak: 0,
    transitions: [minutesAgo(30).toISOString()],
    ...overrides,
  };
}

const incident = (lastNotifiedMinutesAgo: number, remindersSent = 0): OpenIncident => ({
  id: 7,
  lastNotifiedAt: minutesAgo(lastNotifiedMinutesAgo),
  remindersSent,
});

function input(overrides: Partial<DecideInput>): DecideInput {
  return {
    check: checkWith(),
    state: healthy,
    verdict: quiet,
    incident: null,
    maintenance: null,
    now: NOW,
    ...overrides,
  };
}

describe('decide', () => {
  it('raises one incident and enters ALARM when a rule fires while the check is OK', () => {
    const { state, decision } = decide(input({ verdict: downVerdict }));
    expect(decision).toEqual({ action: 'raise', verdict: downVerdict });
    expect(state).toMatchObject({
      state: 'ALARM',
      since: NOW,
      healthyStreak: 0,
      ruleStates: { down: 'ALARM', degraded: 'OK', errorRate: 'OK' },
      transitions: [NOW.toISOString()],
    });
  });

  it('counts healthy cycles and decides nothing when no rule fires while the check is OK', () => {
    const { state, decision } = decide(input({}));
    expect(decision).toEqual({ action: 'none' });
    expect(state).toMatchObject({ state: 'OK', healthyStreak: 6 });
  });

  it('raises no second incident when another rule fires while the check is already in ALARM', () => {
    const { state, decision } = decide(
      input({
        state: alarm(),
        verdict: { ...downVerdict, firing: ['down', 'degraded'] },
        incident: incident(5),
      }),
    );
    expect(decision).toEqual({ action: 'none' });
    expect(state).toMatchObject({ state: 'ALARM', ruleStates: { down: 'ALARM', degraded: 'ALARM' } });
    expect(
      decide(input({ state: alarm(), verdict: degradedVerdict, incident: incident(5) })).decision,
    ).toEqual({
      action: 'none',
    });
  });

  it('suppresses the incident with the maintenance reason and stays OK when a rule fires during a hold', () => {
    const { state, decision } = decide(input({ verdict: downVerdict, maintenance: 'load test abc running' }));
    expect(decision).toEqual({ action: 'suppress', reason: 'load test abc running' });
    expect(state).toMatchObject({ state: 'OK', healthyStreak: 0, transitions: [] });
  });

  it('resolves only after recoveryCycles healthy cycles in a row when the check is in ALARM', () => {
    const check = checkWith({ recoveryCycles: 3 });
    let state = alarm();
    const actions: string[] = [];
    for (let cycle = 0; cycle < 3; cycle++) {
      const next = decide(input({ check, state, incident: incident(5) }));
      actions.push(next.decision.action);
      state = next.state;
    }
    expect(actions).toEqual(['none', 'none', 'resolve']);
    expect(state).toMatchObject({ state: 'OK', since: NOW, healthyStreak: 3 });
    expect(state.transitions.at(-1)).toBe(NOW.toISOString());
  });

  it('starts the healthy count again when a rule fires before recovery completes', () => {
    const check = checkWith({ recoveryCycles: 2 });
    const afterOne = decide(input({ check, state: alarm(), incident: incident(5) })).state;
    expect(afterOne.healthyStreak).toBe(1);
    const refired = decide(
      input({ check, state: afterOne, verdict: downVerdict, incident: incident(5) }),
    ).state;
    expect(refired.healthyStreak).toBe(0);
    expect(decide(input({ check, state: refired, incident: incident(5) })).decision).toEqual({
      action: 'none',
    });
  });

  it('reminds with the next sequence number when the incident was last notified reminderMinutes ago', () => {
    const check = checkWith({ reminderMinutes: 60 });
    const { decision } = decide(
      input({ check, state: alarm(), verdict: downVerdict, incident: incident(60, 2) }),
    );
    expect(decision).toEqual({ action: 'remind', sequence: 3 });
  });

  it('does not remind when the reminder is not yet due, reminders are off, or alerts are held', () => {
    const due = { state: alarm(), verdict: downVerdict, incident: incident(90) };
    expect(decide(input({ ...due, incident: incident(59) })).decision).toEqual({ action: 'none' });
    expect(decide(input({ ...due, check: checkWith({ reminderMinutes: 0 }) })).decision).toEqual({
      action: 'none',
    });
    expect(decide(input({ ...due, maintenance: 'maintenance window' })).decision).toEqual({ action: 'none' });
    expect(decide(input({ ...due, incident: null })).decision).toEqual({ action: 'none' });
  });

  it('needs three times the recovery cycles when the check changed state often within the hour', () => {
    const check = checkWith({ recoveryCycles: 2 });
    const flapping = [50, 40, 30, 20].map((minutes) => minutesAgo(minutes).toISOString());
    expect(FLAPPING_CHANGES).toBe(4);
    const actions: string[] = [];
    let state = alarm({ transitions: flapping });
    for (let cycle = 0; cycle < 6; cycle++) {
      const next = decide(input({ check, state, incident: incident(5) }));
      actions.push(next.decision.action);
      state = next.state;
    }
    expect(actions).toEqual(['none', 'none', 'none', 'none', 'none', 'resolve']);
  });

  it('recovers at the normal pace when the state changes are older than an hour', () => {
    const check = checkWith({ recoveryCycles: 2 });
    const old = [95, 85, 75, 65].map((minutes) => minutesAgo(minutes).toISOString());
    const first = decide(input({ check, state: alarm({ transitions: old }), incident: incident(5) }));
    expect(decide(input({ check, state: first.state, incident: incident(5) })).decision).toEqual({
      action: 'resolve',
    });
  });
});

describe('samplesForRules', () => {
  const heldFailure: RecentSample = { ...failed(), held: true };
  const history = samples(failed(), heldFailure, heldFailure, ok());

  it('leaves held samples out for a check in OK once the hold is over, so they raise nothing', () => {
    expect(samplesForRules(history, 'OK', false)).toEqual([failed(), ok()]);
  });

  it('keeps every sample while the hold lasts', () => {
    expect(samplesForRules(history, 'OK', true)).toEqual(history);
  });

  it('keeps every sample for an announced incident, so it resolves on healthy samples only', () => {
    expect(samplesForRules(history, 'ALARM', false)).toEqual(history);
    const check = checkWith({ down: { consecutive: 3 }, errorRate: null });
    expect(evaluateRules(check, samplesForRules(history, 'ALARM', false)).firing).toEqual(['down']);
  });
});

describe('isFlapping', () => {
  it('is true when FLAPPING_CHANGES transitions fall within the last hour and false with one fewer', () => {
    const within = (count: number) =>
      Array.from({ length: count }, (_, index) => minutesAgo(index * 10).toISOString());
    expect(isFlapping(within(FLAPPING_CHANGES), NOW)).toBe(true);
    expect(isFlapping(within(FLAPPING_CHANGES - 1), NOW)).toBe(false);
    expect(isFlapping([...within(FLAPPING_CHANGES - 1), minutesAgo(61).toISOString()], NOW)).toBe(false);
  });
});

describe('isStale', () => {
  it('is stale when never probed or not probed for more than STALE_AFTER_INTERVALS intervals', () => {
    const interval = 60;
    const limit = STALE_AFTER_INTERVALS * interval * 1000;
    expect(isStale(null, interval, NOW)).toBe(true);
    expect(isStale(new Date(NOW.getTime() - limit), interval, NOW)).toBe(false);
    expect(isStale(new Date(NOW.getTime() - limit - 1), interval, NOW)).toBe(true);
  });
});
