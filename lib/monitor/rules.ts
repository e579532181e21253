// Alert rules and incident transitions: pure functions from recent samples and the stored state.

import type { Severity } from '../alerts/sink.ts';
import type { CheckDefinition } from './checks.ts';
import { type BurnVerdict, burnReason } from './slo.ts';

export type RuleName = 'down' | 'degraded' | 'errorRate' | 'burnRate';
export const RULE_NAMES: readonly RuleName[] = ['down', 'degraded', 'errorRate', 'burnRate'];

export interface RecentSample {
  ok: boolean;
  latencyMs: number | null;
  error: string | null;
  /** Why a sample that passed counts as degraded (a certificate close to expiry); null or absent otherwise. */
  warning?: string | null;
  /** Taken while alerts were held (maintenance, a load test, a dependency down). */
  held?: boolean;
}

export interface RuleVerdict {
  firing: RuleName[];
  /** An incident is critical or a warning; 'info' is for notices such as a resolution. */
  severity: Exclude<Severity, 'info'>;
  /** One line per firing rule, for the alert's text. */
  reasons: string[];
}

/**
 * Evaluates every rule of a check over its recent samples, newest first, and, for a check with an SLO, the burn rate
 * of its error budget.
 */
export function evaluateRules(
  check: CheckDefinition,
  recent: RecentSample[],
  burn?: BurnVerdict,
): RuleVerdict {
  const firing: RuleName[] = [];
  const reasons: string[] = [];
  const { down, degradedCycles, errorRate } = check.rules;
  const lastError = recent.find((sample) => !sample.ok)?.error ?? 'failed';

  if (down.consecutive !== undefined) {
    const streak = recent.slice(0, down.consecutive);
    if (streak.length === down.consecutive && streak.every((sample) => !sample.ok)) {
      firing.push('down');
      reasons.push(`down: ${down.consecutive} failed checks in a row (${lastError})`);
    }
  } else if (down.failures !== undefined && down.window !== undefined) {
    const failures = recent.slice(0, down.window).filter((sample) => !sample.ok).length;
    if (failures >= down.failures) {
      firing.push('down');
      reasons.push(`down: ${failures} of the last ${down.window} checks failed (${lastError})`);
    }
  }

  const slow = recent.slice(0, degradedCycles);
  const isSlow = (sample: RecentSample) => (sample.latencyMs ?? 0) > check.latency.warnMs;
  if (slow.length === degradedCycles && slow.every((sample) => isSlow(sample) || !!sample.warning)) {
    firing.push('degraded');
    const warning = slow.find((sample) => sample.warning)?.warning;
    if (warning) {
      reasons.push(`degraded: ${warning}, for ${degradedCycles} checks`);
    } else {
      const worst = Math.max(...slow.map((sample) => sample.latencyMs ?? 0));
      reasons.push(
        `degraded: over ${check.latency.warnMs} ms for ${degradedCycles} checks (worst ${worst} ms)`,
      );
    }
  }

  if (errorRate && recent.length >= errorRate.window) {
    const window = recent.slice(0, errorRate.window);
    const percent = (window.filter((sample) => !sample.ok).length / window.length) * 100;
    if (percent > errorRate.percent) {
      firing.push('errorRate');
      reasons.push(
        `error rate ${Math.round(percent)}% over the last ${errorRate.window} checks (threshold ${errorRate.percent}%)`,
      );
    }
  }
  if (burn?.firing) {
    firing.push('burnRate');
    reasons.push(burnReason(burn));
  }
  const severity: Exclude<Severity, 'info'> =
    firing.includes('down') || firing.includes('errorRate') || burn?.firing?.severity === 'critical'
      ? 'critical'
      : 'warning';
  return { firing, severity, reasons };
}

/**
 * The samples a check's rules read: held ones count only while the hold lasts, so what failed inside a window raises
 * nothing afterwards; an incident already announced is judged on every sample, so that it resolves on healthy
 * samples, not on the absence of held ones.
 */
export function samplesForRules(
  history: RecentSample[],
  state: 'OK' | 'ALARM',
  held: boolean,
): RecentSample[] {
  return held || state === 'ALARM' ? history : history.filter((sample) => !sample.held);
}

/** A check not probed for this many of its monitor's intervals is stale: its monitor has stopped or fallen behind. */
export const STALE_AFTER_INTERVALS = 3;

/** Whether a check last probed at `lastCheckedAt` (null: never, or pruned) is stale at `now`. */
export function isStale(lastCheckedAt: Date | null, intervalSeconds: number, now: Date): boolean {
  if (lastCheckedAt === null) return true;
  return now.getTime() - lastCheckedAt.getTime() > STALE_AFTER_INTERVALS * intervalSeconds * 1000;
}

export interface CheckState {
  state: 'OK' | 'ALARM';
  since: Date;
  ruleStates: Partial<Record<RuleName, 'OK' | 'ALARM'>>;
  healthyStreak: number;
  /** Times of the last state changes, newest last, for the flapping guard. */
  transitions: string[];
}

export interface OpenIncident {
  id: number;
  lastNotifiedAt: Date | null;
  remindersSent: number;
}

export type Decision =
  | { action: 'none' }
  | { action: 'raise'; verdict: RuleVerdict }
  | { action: 'resolve' }
  | { action: 'remind'; sequence: number }
  | { action: 'suppress'; reason: string };

/** A check that changed state this often within the hour is flapping: it must stay healthy longer to recover. */
export const FLAPPING_CHANGES = 4;
const FLAPPING_WINDOW_MS = 60 * 60_000;
const FLAPPING_RECOVERY_FACTOR = 3;

export function isFlapping(transitions: string[], now: Date): boolean {
  return (
    transitions.filter((time) => now.getTime() - Date.parse(time) <= FLAPPING_WINDOW_MS).length >=
    FLAPPING_CHANGES
  );
}

export interface DecideInput {
  check: CheckDefinition;
  state: CheckState;
  verdict: RuleVerdict;
  incident: OpenIncident | null;
  /** Why alerts are held back right now (a maintenance window, a load test), or null. */
  maintenance: string | null;
  now: Date;
}

/** OK → ALARM on any firing rule (one incident per check), ALARM → OK after enough healthy cycles. */
export function decide(input: DecideInput): { state: CheckState; decision: Decision } {
  const { check, verdict, now } = input;
  const ruleStates: CheckState['ruleStates'] = {};
  for (const rule of RULE_NAMES) ruleStates[rule] = verdict.firing.includes(rule) ? 'ALARM' : 'OK';
  const transitions = input.state.transitions.slice(-10);
  const base: CheckState = { ...input.state, ruleStates, transitions };
  const firing = verdict.firing.length > 0;
  const changeTo = (state: CheckState['state'], healthyStreak: number): CheckState => ({
    ...base,
    state,
    since: now,
    healthyStreak,
    transitions: [...transitions, now.toISOString()],
  });

  if (input.state.state === 'OK') {
    if (!firing)
      return { state: { ...base, healthyStreak: base.healthyStreak + 1 }, decision: { action: 'none' } };
    if (input.maintenance) {
      return {
        state: { ...base, healthyStreak: 0 },
        decision: { action: 'suppress', reason: input.maintenance },
      };
    }
    return { state: changeTo('ALARM', 0), decision: { action: 'raise', verdict } };
  }

  if (firing) {
    const next = { ...base, healthyStreak: 0 };
    const reminder = check.rules.reminderMinutes * 60_000;
    const last = input.incident?.lastNotifiedAt;
    if (
      input.incident &&
      reminder > 0 &&
      last &&
      now.getTime() - last.getTime() >= reminder &&
      !input.maintenance
    ) {
      return { state: next, decision: { action: 'remind', sequence: input.incident.remindersSent + 1 } };
    }
    return { state: next, decision: { action: 'none' } };
  }

  const healthyStreak = base.healthyStreak + 1;
  const needed = check.rules.recoveryCycles * (isFlapping(transitions, now) ? FLAPPING_RECOVERY_FACTOR : 1);
  if (healthyStreak < needed) return { state: { ...base, healthyStreak }, decision: { action: 'none' } };
  return { state: changeTo('OK', healthyStreak), decision: { action: 'resolve' } };
}
