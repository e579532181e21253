// One series of whole seconds in a shard (the whole run's, or one step's): each second's requests, failures and
// latencies written to its timeline as soon as it is over, and its last seconds kept for the live snapshots.

import { createHistogram, recordMs, VarintWriter } from './histogram.ts';
import { type TimelineSecond, TimelineWriter } from './timeline.ts';

/** A second over, as its snapshot carries it: its bucket list as plain varints (the runs format, uncompressed). */
export interface RecentSecond extends TimelineSecond {
  buckets: Uint8Array;
}

export class SecondRecorder {
  private readonly timelineWriter = new TimelineWriter();
  /** One histogram for the current second, reset and reused for the next. */
  private readonly histogram = createHistogram('timeline');
  private current = -1;
  private requests = 0;
  private errors = 0;
  /** The seconds over within the last `keptSeconds`, oldest first; null when no snapshots are taken. */
  private readonly recent: RecentSecond[] | null;
  private readonly keptSeconds: number;

  /** `keptSeconds`: how many of the last seconds snapshots carry; 0 keeps none. */
  constructor(keptSeconds: number) {
    this.keptSeconds = keptSeconds;
    this.recent = keptSeconds > 0 ? [] : null;
  }

  /** Completions arrive in time order, so a second never reopens; `latencyMs` is null without a response. */
  record(second: number, failed: boolean, latencyMs: number | null): void {
    if (second > this.current) {
      this.close();
      this.current = second;
    }
    this.requests++;
    if (failed) this.errors++;
    if (latencyMs !== null) recordMs(this.histogram, latencyMs);
  }

  private close(): void {
    if (this.requests === 0) return;
    this.timelineWriter.add(this.current, this.requests, this.errors, this.histogram);
    if (this.recent) {
      this.recent.push(this.openSecond());
      while ((this.recent[0]?.second ?? this.current) < this.current - this.keptSeconds) this.recent.shift();
    }
    this.histogram.reset();
    this.requests = 0;
    this.errors = 0;
  }

  private openSecond(): RecentSecond {
    const writer = new VarintWriter();
    writer.writeBuckets(this.histogram);
    return {
      second: this.current,
      requests: this.requests,
      errors: this.errors,
      buckets: writer.varints().slice(),
    };
  }

  /**
   * The seconds in [windowEnd - keptSeconds, windowEnd) with requests: those over, and the current one once the
   * clock has left it (responses arrive in time order, so it is whole).
   */
  recentSeconds(windowEnd: number): RecentSecond[] {
    const seconds = [...(this.recent ?? [])];
    if (this.requests > 0 && this.current < windowEnd) seconds.push(this.openSecond());
    return seconds.filter((second) => second.second >= windowEnd - this.keptSeconds);
  }

  /** The last second any request completed in; -1 before the first. */
  get lastSecond(): number {
    return this.current;
  }

  /** Closes the current second and hands the timeline over; the recorder takes nothing after it. */
  finish(): TimelineWriter {
    this.close();
    this.histogram.destroy();
    return this.timelineWriter;
  }
}
