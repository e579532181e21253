// Latency histograms (HDR, microsecond resolution): record, serialise, merge, read exact percentiles.
//
// A stored histogram is its non-zero bucket counts, (index gap, count) varint pairs, deflated: adding one
// into a merge is a pass over those pairs, with no HDR histogram built per shard or per second. The older
// compressed-base64 HDR encoding (rows written before this format) still decodes.

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import * as hdr from 'hdr-histogram-js';
import { EncodingError } from './measurement.ts';

export type Histogram = hdr.Histogram;

/**
 * precise: the run's latency distribution (3 significant digits).
 * timeline: one second of the run at a time (2 significant digits), encoded as soon as the second is over.
 */
export type HistogramKind = 'precise' | 'timeline';

/** A histogram encoded before the bucket-count format: HDR's compressed base64. */
export type LegacyEncodedHistogram = string;
export type EncodedHistogram = Uint8Array | LegacyEncodedHistogram;

const LOWEST_US = 1;
/** One hour: no latency worth recording is longer. */
const HIGHEST_US = 3_600_000_000;
const SIGNIFICANT_DIGITS = 3;

/** First byte of every encoded histogram and timeline, so a later format can be told apart. */
export const BUCKET_COUNTS_FORMAT = 1;

function build(kind: HistogramKind, bitBucketSize: 32 | 64): hdr.JsHistogram {
  const histogram = hdr.build({
    bitBucketSize,
    autoResize: false,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: kind === 'precise' ? SIGNIFICANT_DIGITS : 2,
    useWebAssembly: false,
  });
  return asBuckets(histogram);
}

/** The JS implementation, whose bucket counts can be read and written by index. */
function asBuckets(histogram: Histogram): hdr.JsHistogram {
  if (!(histogram instanceof hdr.JsHistogram))
    throw new TypeError('expected a JS (not WebAssembly) histogram');
  return histogram;
}

export function createHistogram(kind: HistogramKind = 'precise'): Histogram {
  return build(kind, 32);
}

/** A histogram for merged counts: 64-bit buckets, so no sum of shards overflows. */
export function createMergedHistogram(kind: HistogramKind = 'precise'): Histogram {
  return build(kind, 64);
}

const bucketCounts: Record<HistogramKind, number> = {
  precise: build('precise', 32).countsArrayLength,
  timeline: build('timeline', 32).countsArrayLength,
};

/** How many buckets a histogram of this kind has: the length of a merge's count array. */
export function bucketCount(kind: HistogramKind): number {
  return bucketCounts[kind];
}

export function recordMs(histogram: Histogram, milliseconds: number): void {
  const micros = Math.round(milliseconds * 1000);
  histogram.recordValue(Math.min(HIGHEST_US, Math.max(LOWEST_US, micros)));
}

/** A growing byte buffer of unsigned LEB128 varints. */
export class VarintWriter {
  private bytes = new Uint8Array(256);
  private length = 0;

  write(value: number): void {
    if (this.length + 8 > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    let rest = value;
    while (rest >= 0x80) {
      this.bytes[this.length++] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.bytes[this.length++] = rest;
  }

  /** Writes a histogram's non-zero buckets: their number, then (gap since the previous index, count) pairs. */
  writeBuckets(histogram: Histogram): void {
    const buckets = asBuckets(histogram);
    if (buckets.totalCount === 0) {
      this.write(0);
      return;
    }
    // Scanning only between the lowest and highest recorded buckets: a second at 5–100 ms spans a few
    // hundred of the 3,328 buckets.
    const first = buckets.getCountAtIndex(0) > 0 ? 0 : buckets.countsArrayIndex(buckets.minNonZeroValue);
    const last = Math.min(buckets.countsArrayLength - 1, buckets.countsArrayIndex(buckets.maxValue));
    let nonZero = 0;
    for (let index = first; index <= last; index++) if (buckets.getCountAtIndex(index) > 0) nonZero++;
    this.write(nonZero);
    let previous = -1;
    for (let index = first; index <= last; index++) {
      const count = buckets.getCountAtIndex(index);
      if (count === 0) continue;
      this.write(index - previous - 1);
      this.write(count);
      previous = index;
    }
  }

  /** The format byte, then the varints deflated (they shrink about threefold). */
  finish(): Uint8Array {
    const deflated = deflateRawSync(this.bytes.subarray(0, this.length));
    const encoded = new Uint8Array(deflated.length + 1);
    encoded[0] = BUCKET_COUNTS_FORMAT;
    encoded.set(deflated, 1);
    return encoded;
  }
}

/** Reads unsigned LEB128 varints from `position` on; past the end it reads zeros and `position` runs over. */
export class VarintReader {
  private readonly bytes: Uint8Array;
  position: number;

  constructor(bytes: Uint8Array, position = 0) {
    this.bytes = bytes;
    this.position = position;
  }

  read(): number {
    let byte = this.bytes[this.position++] as number;
    if (byte < 0x80) return byte;
    let value = byte & 0x7f;
    let scale = 0x80;
    do {
      byte = this.bytes[this.position++] as number;
      value += (byte & 0x7f) * scale;
      scale *= 0x80;
    } while (byte >= 0x80);
    return value;
  }
}

/** The varints of an encoded histogram or timeline, after its format byte. */
export function inflateBuckets(encoded: Uint8Array): Uint8Array {
  if (encoded[0] !== BUCKET_COUNTS_FORMAT)
    throw new EncodingError(`unknown histogram format ${encoded[0] ?? '(empty)'}`);
  return inflateRawSync(encoded.subarray(1));
}

/**
 * Adds the bucket list that starts at `offset` of `bytes` into `counts`; returns the offset after it.
 * The merge's inner loop: varints read in place, no object per bucket.
 */
export function addBuckets(bytes: Uint8Array, offset: number, counts: Float64Array): number {
  const reader = new VarintReader(bytes, offset);
  const pairs = reader.read();
  let index = -1;
  for (let pair = 0; pair < pairs; pair++) {
    index += reader.read() + 1;
    counts[index] = (counts[index] as number) + reader.read();
  }
  if (reader.position > bytes.length || index >= counts.length)
    throw new EncodingError('histogram buckets end early or fall outside the histogram');
  return reader.position;
}

export function encodeHistogram(histogram: Histogram): Uint8Array {
  const writer = new VarintWriter();
  writer.writeBuckets(histogram);
  return writer.finish();
}

/** Adds an encoded histogram (either format) into a merge's count array. */
export function addEncodedHistogram(
  encoded: EncodedHistogram,
  counts: Float64Array,
  kind: HistogramKind = 'precise',
): void {
  if (typeof encoded === 'string') {
    const histogram = asBuckets(decodeLegacyHistogram(encoded, kind));
    for (let index = 0; index < histogram.countsArrayLength; index++) {
      const count = histogram.getCountAtIndex(index);
      if (count > 0) counts[index] = (counts[index] as number) + count;
    }
    histogram.destroy();
    return;
  }
  addBuckets(inflateBuckets(encoded), 0, counts);
}

function decodeLegacyHistogram(encoded: LegacyEncodedHistogram, kind: HistogramKind): Histogram {
  // Timeline histograms were decoded with the packed bucket size: small, but about 28 times slower.
  return hdr.decodeFromCompressedBase64(encoded, kind === 'precise' ? 32 : 'packed', false);
}

/**
 * The histogram holding these bucket counts (64-bit buckets, so no merged count overflows), with its
 * minimum and maximum set from them exactly as decoding and adding histograms would set them.
 */
export function histogramFromCounts(counts: Float64Array, kind: HistogramKind = 'precise'): Histogram {
  const histogram = createMergedHistogram(kind);
  loadCounts(histogram, counts);
  return histogram;
}

/** Replaces a histogram's counts with `counts` (a reused histogram reads one merged second after another). */
export function loadCounts(histogram: Histogram, counts: Float64Array): void {
  const buckets = asBuckets(histogram);
  buckets.reset();
  for (let index = 0; index < counts.length; index++) {
    const count = counts[index] as number;
    if (count > 0) buckets.setCountAtIndex(index, count);
  }
  buckets.establishInternalTackingValues();
}

export function decodeHistogram(encoded: EncodedHistogram, kind: HistogramKind = 'precise'): Histogram {
  if (typeof encoded === 'string') return decodeLegacyHistogram(encoded, kind);
  const counts = new Float64Array(bucketCount(kind));
  addEncodedHistogram(encoded, counts, kind);
  return histogramFromCounts(counts, kind);
}

/** Adds every encoded histogram into one; merging counts is exact, unlike averaging percentiles. */
export function mergeHistograms(
  encoded: Iterable<EncodedHistogram>,
  kind: HistogramKind = 'precise',
): Histogram {
  const counts = new Float64Array(bucketCount(kind));
  for (const item of encoded) addEncodedHistogram(item, counts, kind);
  return histogramFromCounts(counts, kind);
}

export interface LatencySummary {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/** Milliseconds, from microsecond buckets. */
export function summarize(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  const at = (percentile: number) => round(histogram.getValueAtPercentile(percentile) / 1000);
  return {
    // Read min and max through percentiles too, so a merged histogram reports exactly what one
    // histogram holding every sample would (raw min/max are exact only before serialisation).
    min: at(0),
    mean: round(histogram.mean / 1000),
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: at(100),
  };
}

/** Bucketed counts for plotting: [upper bound in ms, count] in ascending order. */
export function distribution(histogram: Histogram, buckets = 40): Array<[number, number]> {
  if (histogram.totalCount === 0) return [];
  const min = Math.max(1, histogram.minNonZeroValue);
  const max = Math.max(min + 1, histogram.maxValue);
  const ratio = (max / min) ** (1 / buckets);
  const result: Array<[number, number]> = [];
  let previousCount = 0;
  for (let index = 1; index <= buckets; index++) {
    const upper = index === buckets ? max : min * ratio ** index;
    const countBelow = histogram.totalCount * (percentileAt(histogram, upper) / 100);
    result.push([round(upper / 1000), Math.round(countBelow - previousCount)]);
    previousCount = Math.round(countBelow);
  }
  return result;
}

function percentileAt(histogram: Histogram, valueUs: number): number {
  // Binary search on percentiles: hdr-histogram-js exposes no count-below-value in its public API.
  let low = 0;
  let high = 100;
  for (let step = 0; step < 30; step++) {
    const middle = (low + high) / 2;
    if (histogram.getValueAtPercentile(middle) <= valueUs) low = middle;
    else high = middle;
  }
  return low;
}
