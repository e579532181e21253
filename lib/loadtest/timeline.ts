// A shard's per-second timeline in one encoded blob, and the merge of many shards' timelines into the report's.
//
// Each second is (gap since the previous second, requests, errors, bucket counts of its latencies); the whole
// shard is compressed once (lib/loadtest/histogram.ts's formats; today's holds 1 significant digit per second). Merging adds each second's counts into one count array per second of the run, so the
// report's per-second percentiles are those of one histogram holding every shard's samples of that second.

import {
  addBuckets,
  addEncodedHistogram,
  BucketFormat,
  bucketCount,
  createMergedHistogram,
  decompressBuckets,
  type Histogram,
  type LegacyEncodedHistogram,
  loadCounts,
  twoDigitTimelineBuckets,
  VarintReader,
  VarintWriter,
} from './histogram.ts';
import { EncodingError } from './measurement.ts';

/** A second of a timeline: its requests, and how many of them failed. */
export interface TimelineSecond {
  second: number;
  requests: number;
  errors: number;
}

export interface TimelinePoint extends TimelineSecond {
  p50: number;
  p99: number;
}

/** One second of a timeline stored before the blob format: an HDR compressed-base64 histogram per second. */
export interface LegacyTimelineSecond extends TimelineSecond {
  histogram: LegacyEncodedHistogram;
}

export type EncodedTimeline = Uint8Array | LegacyTimelineSecond[];

/** Collects a shard's seconds in order; a second is written once, when it is over. */
export class TimelineWriter {
  private readonly writer = new VarintWriter();
  private previous = -1;

  /** `histogram` is of kind 'timeline' and holds the latencies of the responses completed in `second`. */
  add(second: number, requests: number, errors: number, histogram: Histogram): void {
    if (second <= this.previous) throw new RangeError(`second ${second} written after ${this.previous}`);
    this.writer.write(second - this.previous - 1);
    this.writer.write(requests);
    this.writer.write(errors);
    this.writer.writeBuckets(histogram);
    this.previous = second;
  }

  /** The seconds written so far, uncompressed: for a blob that holds several timelines (lib/loadtest/step-recorder.ts). */
  varints(): Uint8Array {
    return this.writer.varints();
  }

  finish(): Uint8Array {
    return this.writer.finish();
  }
}

/**
 * Each second of a timeline's varints (decompressed), added into the counts `into` returns for it: today's
 * timeline histogram's buckets, onto which the pairs format's finer ones are mapped.
 */
function readSeconds(
  { format, bytes }: { format: BucketFormat; bytes: Uint8Array },
  into: (second: number, requests: number, errors: number) => Float64Array,
): void {
  const indexes = format === BucketFormat.pairs ? twoDigitTimelineBuckets() : undefined;
  const reader = new VarintReader(bytes);
  let second = -1;
  while (reader.position < bytes.length) {
    second += reader.read() + 1;
    const requests = reader.read();
    const errors = reader.read();
    reader.position = addBuckets(format, bytes, reader.position, into(second, requests, errors), indexes);
  }
}

/** The seconds of a timeline with their counts, for checks and summaries that need no percentiles. */
export function readTimeline(encoded: EncodedTimeline): TimelineSecond[] {
  if (Array.isArray(encoded))
    return encoded.map(({ second, requests, errors }) => ({ second, requests, errors }));
  const seconds: TimelineSecond[] = [];
  const scratch = new Float64Array(bucketCount('timeline'));
  readSeconds(decompressBuckets(encoded), (second, requests, errors) => {
    seconds.push({ second, requests, errors });
    return scratch;
  });
  return seconds;
}

/** A second (or a point of several) added up over shards: requests, errors, its latencies' bucket counts. */
export interface MergedSecond extends Omit<TimelineSecond, 'second'> {
  counts: Float64Array;
}

/** Adds requests and errors into `entries[at]`, made when missing, and returns its bucket counts to add into. */
export function addToSecond(
  entries: Array<MergedSecond | undefined>,
  at: number,
  requests: number,
  errors: number,
): Float64Array {
  let entry = entries[at];
  if (!entry) {
    entry = { requests: 0, errors: 0, counts: new Float64Array(bucketCount('timeline')) };
    entries[at] = entry;
  }
  entry.requests += requests;
  entry.errors += errors;
  return entry.counts;
}

/** Adds `from`'s bucket counts into `into`'s. */
export function addCounts(into: Float64Array, from: Float64Array): void {
  for (let index = 0; index < into.length; index++)
    into[index] = (into[index] as number) + (from[index] as number);
}

/** The run's timeline, accumulated one shard at a time: memory grows with the run's seconds, not its shards. */
export class TimelineMerge {
  /** Indexed by second of the run; holes for seconds no shard has reported yet. */
  private readonly seconds: Array<MergedSecond | undefined> = [];

  add(encoded: EncodedTimeline): void {
    if (Array.isArray(encoded)) {
      for (const { second, requests, errors, histogram } of encoded)
        addEncodedHistogram(histogram, addToSecond(this.seconds, second, requests, errors), 'timeline');
      return;
    }
    if (encoded[0] !== BucketFormat.runs) {
      // Written before the runs format, during an upgrade only: the general reader.
      readSeconds(decompressBuckets(encoded), (second, requests, errors) =>
        addToSecond(this.seconds, second, requests, errors),
      );
      return;
    }
    // The merge's inner loop, over millions of shard-seconds: varints decoded in place (one byte is the
    // common case), no callback and no object per second or per bucket.
    const { bytes } = decompressBuckets(encoded);
    const end = bytes.length;
    let position = 0;
    let second = -1;
    // A second's header: gap since the previous second, requests, errors, buckets from first to last.
    const values = new Float64Array(4);
    while (position < end) {
      for (let field = 0; field < 4; field++) {
        let byte = bytes[position++] as number;
        let value = byte & 0x7f;
        for (let scale = 0x80; byte >= 0x80; scale *= 0x80) {
          byte = bytes[position++] as number;
          value += (byte & 0x7f) * scale;
        }
        values[field] = value;
      }
      second += (values[0] as number) + 1;
      const counts = addToSecond(this.seconds, second, values[1] as number, values[2] as number);
      const span = values[3] as number;
      if (span === 0) continue;
      let byte = bytes[position++] as number;
      let index = byte & 0x7f;
      for (let scale = 0x80; byte >= 0x80; scale *= 0x80) {
        byte = bytes[position++] as number;
        index += (byte & 0x7f) * scale;
      }
      const last = index + span;
      while (index < last) {
        byte = bytes[position++] as number;
        let count = byte & 0x7f;
        for (let scale = 0x80; byte >= 0x80; scale *= 0x80) {
          byte = bytes[position++] as number;
          count += (byte & 0x7f) * scale;
        }
        if (count > 0) {
          counts[index] = (counts[index] as number) + count;
          index++;
          continue;
        }
        // An empty stretch: its length less one follows.
        byte = bytes[position++] as number;
        let empty = byte & 0x7f;
        for (let scale = 0x80; byte >= 0x80; scale *= 0x80) {
          byte = bytes[position++] as number;
          empty += (byte & 0x7f) * scale;
        }
        index += empty + 1;
      }
      if (position > end || index !== last || last > counts.length)
        throw new EncodingError('timeline buckets end early or fall outside the histogram');
    }
  }

  points(): TimelinePoint[] {
    return pointsOf(this.seconds, 1);
  }
}

/** Points of merged seconds, each entry `secondsPerPoint` seconds long; holes (nothing reported) left out. */
function pointsOf(entries: Array<MergedSecond | undefined>, secondsPerPoint: number): TimelinePoint[] {
  const reader = createMergedHistogram('timeline');
  const points: TimelinePoint[] = [];
  // forEach skips the holes: seconds no shard reported.
  entries.forEach((entry, index) => {
    if (!entry) return;
    loadCounts(reader, entry.counts);
    // Only two percentiles per second: summarize() would look up eight.
    const p50 = reader.totalCount ? Math.round(reader.getValueAtPercentile(50)) / 1000 : 0;
    const p99 = reader.totalCount ? Math.round(reader.getValueAtPercentile(99)) / 1000 : 0;
    points.push({
      second: index * secondsPerPoint,
      requests: entry.requests,
      errors: entry.errors,
      p50,
      p99,
    });
  });
  reader.destroy();
  return points;
}

/** Most points a step's timeline keeps in a report: a longer run's points each add up several seconds. */
export const MAX_STEP_TIMELINE_POINTS = 120;

/**
 * A step's timeline over every shard, at most MAX_STEP_TIMELINE_POINTS points: a point is one second until the
 * run goes past that many, then each point doubles its seconds (adjacent points added together, which is exact),
 * so memory stays bounded however long the run and however many steps.
 */
export class BoundedTimelineMerge {
  secondsPerPoint = 1;
  private entries: Array<MergedSecond | undefined> = [];

  /** Adds a timeline's seconds as TimelineWriter writes them, uncompressed (runs format). */
  addVarints(bytes: Uint8Array): void {
    readSeconds({ format: BucketFormat.runs, bytes }, (second, requests, errors) => {
      while (second >= MAX_STEP_TIMELINE_POINTS * this.secondsPerPoint) this.fold();
      return addToSecond(this.entries, Math.floor(second / this.secondsPerPoint), requests, errors);
    });
  }

  private fold(): void {
    const folded: Array<MergedSecond | undefined> = [];
    this.entries.forEach((entry, index) => {
      if (entry)
        addCounts(addToSecond(folded, Math.floor(index / 2), entry.requests, entry.errors), entry.counts);
    });
    this.entries = folded;
    this.secondsPerPoint *= 2;
  }

  points(): TimelinePoint[] {
    return pointsOf(this.entries, this.secondsPerPoint);
  }
}
