// What a finished report's verdict says and why, apart from the merging that builds it, so pages bundle without it.

import type { LoadTestReport } from './report.ts';
import { DEFAULT_THRESHOLD, gradeReason } from './thresholds.ts';

/** Whether the run lasted long enough to have held a rate: under a second, requests per second is no fact. */
export function heldRate(report: Pick<LoadTestReport, 'durationSeconds'>): boolean {
  return report.durationSeconds >= 1;
}

/** The badge a report shows: what happened to the run, in one word. */
export function verdictLabel(report: LoadTestReport): 'PASSED' | 'FAILED' | 'ABORTED' {
  return report.aborted ? 'ABORTED' : report.passed ? 'PASSED' : 'FAILED';
}

/**
 * Why the verdict is what it is, so that a verdict never contradicts its grade without a word: the reasons
 * a run failed, or, for a run that passed with grade F, what it passed on and what earned the F.
 */
export function explainVerdict(report: LoadTestReport): string | null {
  // Reports stored before the reasons were recorded have none.
  const because = report.failedBecause ?? [];
  if (!report.passed) return because.length ? because.join('; ') : null;
  if (report.grade !== 'F') return null;
  const set = report.thresholds.filter((result) => !result.default).map((result) => result.expr);
  const passedOn = set.length
    ? `passed its thresholds (${set.join(', ')})`
    : `passed the default threshold (${DEFAULT_THRESHOLD}: not every request failed)`;
  const graded = gradeReason(report.errorPercent, report.latencyMs.p95);
  return `${passedOn}, but graded F${graded ? `: ${graded}` : ''}`;
}
