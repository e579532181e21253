// A shard's per-second timeline in one encoded blob, and the merge of many shards' timelines into the report's.
//
// Each second is (gap since the previous second, requests, errors, bucket counts of its latencies); the whole
// shard is deflated once. Merging adds each second's counts into one count array per second of the run, so the
// report's per-second percentiles are those of one histogram holding every shard's samples of that second.

import {
  addBuckets,
  addEncodedHistogram,
  bucketCount,
  createMergedHistogram,
  type Histogram,
  inflateBuckets,
  type LegacyEncodedHistogram,
  loadCounts,
  VarintReader,
  VarintWriter,
} from './histogram.ts';
import { EncodingError } from './measurement.ts';

export interface TimelinePoint {
  second: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

/** One second of a timeline stored before the blob format: an HDR compressed-base64 histogram per second. */
export interface LegacyTimelineSecond {
  second: number;
  requests: number;
  errors: number;
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

  finish(): Uint8Array {
    return this.writer.finish();
  }
}

/** Reads varints of a timeline blob, skipping or adding each second's buckets. */
function readSeconds(
  encoded: Uint8Array,
  visit: (second: number, requests: number, errors: number, bytes: Uint8Array, offset: number) => number,
): void {
  const bytes = inflateBuckets(encoded);
  const reader = new VarintReader(bytes);
  let second = -1;
  while (reader.position < bytes.length) {
    second += reader.read() + 1;
    const requests = reader.read();
    const errors = reader.read();
    reader.position = visit(second, requests, errors, bytes, reader.position);
  }
}

/** The seconds of a timeline with their counts, for checks and summaries that need no percentiles. */
export function readTimeline(
  encoded: EncodedTimeline,
): Array<{ second: number; requests: number; errors: number }> {
  if (Array.isArray(encoded))
    return encoded.map(({ second, requests, errors }) => ({ second, requests, errors }));
  const seconds: Array<{ second: number; requests: number; errors: number }> = [];
  const scratch = new Float64Array(bucketCount('timeline'));
  readSeconds(encoded, (second, requests, errors, bytes, offset) => {
    seconds.push({ second, requests, errors });
    return addBuckets(bytes, offset, scratch);
  });
  return seconds;
}

interface MergedSecond {
  requests: number;
  errors: number;
  counts: Float64Array;
}

/** The run's timeline, accumulated one shard at a time: memory grows with the run's seconds, not its shards. */
export class TimelineMerge {
  /** Indexed by second of the run; holes for seconds no shard has reported yet. */
  private readonly seconds: Array<MergedSecond | undefined> = [];

  private at(second: number): MergedSecond {
    let entry = this.seconds[second];
    if (!entry) {
      entry = { requests: 0, errors: 0, counts: new Float64Array(bucketCount('timeline')) };
      this.seconds[second] = entry;
    }
    return entry;
  }

  add(encoded: EncodedTimeline): void {
    if (Array.isArray(encoded)) {
      for (const point of encoded) {
        const entry = this.at(point.second);
        entry.requests += point.requests;
        entry.errors += point.errors;
        addEncodedHistogram(point.histogram, entry.counts, 'timeline');
      }
      return;
    }
    // The merge's inner loop, over millions of shard-seconds: varints decoded in place (one byte is the
    // common case), no callback and no object per second or per bucket.
    const bytes = inflateBuckets(encoded);
    const end = bytes.length;
    let position = 0;
    let second = -1;
    // A second's header: gap since the previous second, requests, errors, buckets that follow.
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
      const entry = this.at(second);
      entry.requests += values[1] as number;
      entry.errors += values[2] as number;
      const counts = entry.counts;
      const pairs = values[3] as number;
      let index = -1;
      for (let pair = 0; pair < pairs; pair++) {
        let byte = bytes[position++] as number;
        let gap = byte & 0x7f;
        for (let scale = 0x80; byte >= 0x80; scale *= 0x80) {
          byte = bytes[position++] as number;
          gap += (byte & 0x7f) * scale;
        }
        byte = bytes[position++] as number;
        let count = byte & 0x7f;
        for (let scale = 0x80; byte >= 0x80; scale *= 0x80) {
          byte = bytes[position++] as number;
          count += (byte & 0x7f) * scale;
        }
        index += gap + 1;
        counts[index] = (counts[index] as number) + count;
      }
      if (position > end || index >= counts.length)
        throw new EncodingError('timeline buckets end early or fall outside the histogram');
    }
  }

  points(): TimelinePoint[] {
    const reader = createMergedHistogram('timeline');
    const points: TimelinePoint[] = [];
    // forEach skips the holes: seconds no shard reported.
    this.seconds.forEach((entry, second) => {
      if (!entry) return;
      loadCounts(reader, entry.counts);
      // Only two percentiles per second: summarize() would look up eight.
      const p50 = reader.totalCount ? Math.round(reader.getValueAtPercentile(50)) / 1000 : 0;
      const p99 = reader.totalCount ? Math.round(reader.getValueAtPercentile(99)) / 1000 : 0;
      points.push({ second, requests: entry.requests, errors: entry.errors, p50, p99 });
    });
    reader.destroy();
    return points;
  }
}
