// The open model's timeline: when the n-th request of a run is due, for piecewise-linear rates.

import type { RateStage } from './options.ts';

interface StageSpan extends RateStage {
  startSeconds: number;
  /** Requests due before this stage starts. */
  before: number;
  /** The rate's change per second. */
  slope: number;
}

export class RateSchedule {
  readonly total: number;
  readonly durationSeconds: number;
  private readonly spans: StageSpan[];

  constructor(stages: RateStage[]) {
    let startSeconds = 0;
    let before = 0;
    this.spans = stages.map((stage) => {
      const slope = stage.durationSeconds > 0 ? (stage.to - stage.from) / stage.durationSeconds : 0;
      const span = { ...stage, startSeconds, before, slope };
      startSeconds += stage.durationSeconds;
      before += ((stage.from + stage.to) / 2) * stage.durationSeconds;
      return span;
    });
    this.durationSeconds = startSeconds;
    // Rounding guards against 99.99999 requests meaning 99.
    this.total = Math.floor(before + 1e-6);
  }

  /** Requests due by `seconds` into the run (fractional). */
  dueBy(seconds: number): number {
    for (let index = this.spans.length - 1; index >= 0; index--) {
      const span = this.spans[index];
      if (span === undefined || seconds < span.startSeconds) continue;
      const into = Math.min(seconds - span.startSeconds, span.durationSeconds);
      return span.before + span.from * into + (span.slope * into * into) / 2;
    }
    return 0;
  }

  /** Seconds into the run at which request `index` (0-based) is due. */
  timeOf(index: number): number {
    let chosen = this.spans[0];
    for (const span of this.spans) {
      if (span.before <= index + 1e-9) chosen = span;
      else break;
    }
    if (chosen === undefined) return 0;
    const remaining = index - chosen.before;
    const { slope } = chosen;
    let into: number;
    if (Math.abs(slope) < 1e-12) {
      into = chosen.from > 0 ? remaining / chosen.from : 0;
    } else {
      // Solve from·t + slope·t²/2 = remaining for the smallest t ≥ 0.
      const discriminant = chosen.from * chosen.from + 2 * slope * remaining;
      into = (-chosen.from + Math.sqrt(Math.max(0, discriminant))) / slope;
    }
    return chosen.startSeconds + Math.min(Math.max(0, into), chosen.durationSeconds);
  }

  /** The first request index due at or after `seconds`. */
  firstIndexAt(seconds: number): number {
    return Math.min(this.total, Math.ceil(this.dueBy(seconds) - 1e-9));
  }
}
