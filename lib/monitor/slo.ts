// Service level objectives: the error budget a check has left and how fast it burns, with the multi-window rule.
// Pure: the sample counts come from the store, counted in SQL at a time passed in.

export interface SloObjective {
  /** availability: samples that passed; latency: samples that passed within `latencyMs`. */
  kind: 'availability' | 'latency';
  /** Percent of samples that must be good over the window: 99.9, or 95 for a p95 objective. */
  targetPercent: number;
  latencyMs?: number;
  windowDays: 28 | 30;
}

export interface WindowCounts {
  total: number;
  bad: number;
}

/**
 * Burn-rate alerts as the Google SRE workbook's "multiwindow, multi-burn-rate" rule: a long window proves the budget
 * is really going (14.4× for an hour spends 2 % of a 30-day budget; 6× for six hours, 5 %), and a short one, a
 * twelfth of it, proves it is still going, so the alert resets minutes after the burning stops.
 */
export const BURN_RULES = [
  { name: 'page', severity: 'critical', factor: 14.4, longSeconds: 3600, shortSeconds: 300 },
  { name: 'ticket', severity: 'warning', factor: 6, longSeconds: 6 * 3600, shortSeconds: 1800 },
] as const;

export type BurnRule = (typeof BURN_RULES)[number];

/** Every window the SLO reads, in seconds: the burn windows and the objective's own. */
export function sloWindows(objective: SloObjective): number[] {
  const burnWindows = BURN_RULES.flatMap((rule) => [rule.longSeconds, rule.shortSeconds]);
  return [...new Set([objective.windowDays * 86_400, ...burnWindows])].sort((a, b) => a - b);
}

/**
 * Days of samples to keep: the configured retention, or a longer objective window, whose budget is counted over
 * every sample of it.
 */
export function sampleRetentionDays(
  retentionDays: number,
  objectives: Array<SloObjective | undefined>,
): number {
  return Math.max(retentionDays, ...objectives.map((objective) => objective?.windowDays ?? 0));
}

/** How many times faster than sustainable the budget went over a window: 1 spends it exactly by the window's end. */
export function burnRate(counts: WindowCounts | undefined, objective: SloObjective): number {
  if (!counts || counts.total === 0) return 0;
  // Over the share of samples the objective allows to be bad: 0.001 for 99.9 %.
  return counts.bad / counts.total / (1 - objective.targetPercent / 100);
}

/** Percent of the objective window's budget not yet spent; below 0 once the objective is missed. */
export function budgetLeftPercent(counts: WindowCounts | undefined, objective: SloObjective): number {
  return 100 * (1 - burnRate(counts, objective));
}

export interface BurnVerdict {
  /** The most severe rule whose long and short windows both burn at its factor or faster; null when none. */
  firing: BurnRule | null;
  /** Burn rate per window, seconds → rate. */
  rates: Map<number, number>;
  budgetLeftPercent: number;
  windowDays: number;
}

export function evaluateBurn(objective: SloObjective, counts: Map<number, WindowCounts>): BurnVerdict {
  const rates = new Map(
    sloWindows(objective).map((seconds) => [seconds, burnRate(counts.get(seconds), objective)]),
  );
  const firing =
    BURN_RULES.find(
      (rule) =>
        (rates.get(rule.longSeconds) ?? 0) >= rule.factor &&
        (rates.get(rule.shortSeconds) ?? 0) >= rule.factor,
    ) ?? null;
  return {
    firing,
    rates,
    budgetLeftPercent: budgetLeftPercent(counts.get(objective.windowDays * 86_400), objective),
    windowDays: objective.windowDays,
  };
}

const windowLabel = (seconds: number) => (seconds >= 3600 ? `${seconds / 3600} h` : `${seconds / 60} min`);
const times = (rate: number) => `${rate >= 100 ? Math.round(rate) : Math.round(rate * 10) / 10}×`;

/** "error budget burning 20× over 1 h and 16.7× over 5 min (page); 35% of the 30-day budget left". */
export function burnReason(verdict: BurnVerdict): string {
  const rule = verdict.firing;
  if (!rule) return `${Math.round(verdict.budgetLeftPercent)}% of the ${verdict.windowDays}-day budget left`;
  return `error budget burning ${times(verdict.rates.get(rule.longSeconds) ?? 0)} over ${windowLabel(rule.longSeconds)} and ${times(
    verdict.rates.get(rule.shortSeconds) ?? 0,
  )} over ${windowLabel(rule.shortSeconds)} (${rule.name}, at least ${rule.factor}×); ${Math.round(verdict.budgetLeftPercent)}% of the ${verdict.windowDays}-day budget left`;
}

/** What the monitor stores of a check's objective each cycle, for /metrics and the status page. */
export interface SloState extends SloObjective {
  budgetLeftPercent: number;
  /** Burn rate per window, by its length in seconds. */
  burnRates: Record<string, number>;
  firing: BurnRule['name'] | null;
}

export function sloState(objective: SloObjective, verdict: BurnVerdict): SloState {
  return {
    ...objective,
    budgetLeftPercent: verdict.budgetLeftPercent,
    burnRates: Object.fromEntries([...verdict.rates].map(([seconds, rate]) => [String(seconds), rate])),
    firing: verdict.firing?.name ?? null,
  };
}
