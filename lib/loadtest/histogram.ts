// Latency histograms (HDR, microsecond resolution): record, serialise, merge, read exact percentiles.
//
// A stored histogram is its non-zero bucket counts as varints, compressed: adding one into a merge is a pass over
// those varints, with no HDR histogram built per shard or per second. Two formats are read (the first byte says
// which) and the latest is written; the older compressed-base64 HDR encoding (rows written before either) still
// decodes.

import { brotliCompressSync, brotliDecompressSync, inflateRawSync, constants as zlib } from 'node:zlib';
import * as hdr from 'hdr-histogram-js';
import { EncodingError } from './measurement.ts';

export type Histogram = hdr.Histogram;

/**
 * precise: the run's latency distribution (3 significant digits: values within 0.1 %).
 * timeline: one second of the run at a time (1 significant digit: 16 buckets per doubling, values within 6.25 %),
 * encoded as soon as the second is over; a chart of per-second p50 and p99 needs no finer steps, and this keeps
 * a shard-second under 100 bytes at 1,000 req/s.
 */
export type HistogramKind = 'precise' | 'timeline';

/** A histogram encoded before the bucket-count format: HDR's compressed base64. */
export type LegacyEncodedHistogram = string;
export type EncodedHistogram = Uint8Array | LegacyEncodedHistogram;

const LOWEST_US = 1;
/** One hour: no latency worth recording is longer. */
const HIGHEST_US = 3_600_000_000;
const SIGNIFICANT_DIGITS: Record<HistogramKind, 1 | 3> = { precise: 3, timeline: 1 };

/**
 * First byte of every encoded histogram and timeline.
 * pairs: (index gap, count) varint pairs, deflated; its timeline seconds hold 2 significant digits.
 * runs: counts from the first to the last non-zero bucket, a run of empty ones as 0 and its length, compressed
 * with brotli; its timeline seconds hold 1 significant digit. Written since a shard-second at 1,000 req/s
 * took 288 bytes in the pairs format.
 */
export const BucketFormat = { pairs: 1, runs: 2 } as const;
export type BucketFormat = (typeof BucketFormat)[keyof typeof BucketFormat];

function build(significantDigits: 1 | 2 | 3, bitBucketSize: 32 | 64 = 32): hdr.JsHistogram {
  const histogram = hdr.build({
    bitBucketSize,
    autoResize: false,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: significantDigits,
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
  return build(SIGNIFICANT_DIGITS[kind]);
}

/** A histogram for merged counts: 64-bit buckets, so no sum of shards overflows. */
export function createMergedHistogram(kind: HistogramKind = 'precise'): Histogram {
  return build(SIGNIFICANT_DIGITS[kind], 64);
}

const bucketCounts: Record<HistogramKind, number> = {
  precise: build(SIGNIFICANT_DIGITS.precise).countsArrayLength,
  timeline: build(SIGNIFICANT_DIGITS.timeline).countsArrayLength,
};

/** How many buckets a histogram of this kind has: the length of a merge's count array. */
export function bucketCount(kind: HistogramKind): number {
  return bucketCounts[kind];
}

export function recordMs(histogram: Histogram, milliseconds: number): void {
  const micros = Math.round(milliseconds * 1000);
  histogram.recordValue(Math.min(HIGHEST_US, Math.max(LOWEST_US, micros)));
}

/** Varints above this size are compressed one quality step below brotli's top: see VarintWriter.finish. */
const LARGE_VARINTS_BYTES = 256 * 1024;

/** A growing byte buffer of unsigned LEB128 varints. */
export class VarintWriter {
  private bytes = new Uint8Array(256);
  private length = 0;

  /** Room for `extra` more bytes. */
  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  write(value: number): void {
    // A varint of a safe integer takes at most 8 bytes.
    this.reserve(8);
    let rest = value;
    while (rest >= 0x80) {
      this.bytes[this.length++] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.bytes[this.length++] = rest;
  }

  /** Appends bytes already written by another writer (a bucket list, a timeline's seconds) as they are. */
  writeBytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /**
   * Writes a histogram's buckets in the runs format: how many buckets from the first non-zero one to the last
   * (0 when empty), the first one's index, then each count, a stretch of empty buckets written as 0 and the
   * stretch's length less one. Recorded latencies sit close together, so most buckets between the two ends
   * hold something and cost no index.
   */
  writeBuckets(histogram: Histogram): void {
    const buckets = asBuckets(histogram);
    if (buckets.totalCount === 0) {
      this.write(0);
      return;
    }
    // Scanning only between the lowest and highest recorded buckets.
    const first = buckets.getCountAtIndex(0) > 0 ? 0 : buckets.countsArrayIndex(buckets.minNonZeroValue);
    const last = Math.min(buckets.countsArrayLength - 1, buckets.countsArrayIndex(buckets.maxValue));
    this.write(last - first + 1);
    this.write(first);
    for (let index = first; index <= last; index++) {
      const count = buckets.getCountAtIndex(index);
      if (count > 0) {
        this.write(count);
        continue;
      }
      // The last bucket holds a count, so an empty stretch always ends before it.
      let end = index;
      while (buckets.getCountAtIndex(end + 1) === 0) end++;
      this.write(0);
      this.write(end - index);
      index = end;
    }
  }

  /** The varints written so far. */
  varints(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  /** The format byte, then the varints compressed with brotli (a shard's varints shrink about twofold). */
  finish(): Uint8Array {
    const varints = this.varints();
    const compressed = brotliCompressSync(varints, {
      params: {
        // Written once per shard and read once per merge: the smallest output is worth the encoder's time
        // (about 0.1 s for a 600 s shard at 5,000 req/s). Past LARGE_VARINTS_BYTES (a scenario's step timelines
        // at the caps: 1.5 MB for 50 steps over 600 s) the top quality costs 2.6 s where one below it takes
        // 1.0 s for 1 % more bytes.
        [zlib.BROTLI_PARAM_QUALITY]:
          varints.length > LARGE_VARINTS_BYTES ? zlib.BROTLI_MAX_QUALITY - 1 : zlib.BROTLI_MAX_QUALITY,
        [zlib.BROTLI_PARAM_SIZE_HINT]: varints.length,
        // A window no larger than the input, so that the decoder never allocates more.
        [zlib.BROTLI_PARAM_LGWIN]: Math.min(
          zlib.BROTLI_MAX_WINDOW_BITS,
          Math.max(zlib.BROTLI_MIN_WINDOW_BITS, Math.ceil(Math.log2(varints.length + 1))),
        ),
      },
    });
    const encoded = new Uint8Array(compressed.length + 1);
    encoded[0] = BucketFormat.runs;
    encoded.set(compressed, 1);
    return encoded;
  }
}

/** Reads unsigned LEB128 varints from `position` on; past the end it reads zeros and `position` runs over. */
export class VarintReader {
  readonly bytes: Uint8Array;
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

/** An encoded histogram's or timeline's format and its varints, decompressed. */
export function decompressBuckets(encoded: Uint8Array): { format: BucketFormat; bytes: Uint8Array } {
  const body = encoded.subarray(1);
  try {
    if (encoded[0] === BucketFormat.runs)
      return { format: BucketFormat.runs, bytes: brotliDecompressSync(body) };
    if (encoded[0] === BucketFormat.pairs) return { format: BucketFormat.pairs, bytes: inflateRawSync(body) };
  } catch (error) {
    throw new EncodingError(`histogram bytes do not decompress: ${(error as Error).message}`, {
      cause: error,
    });
  }
  throw new EncodingError(`unknown histogram format ${encoded[0] ?? '(empty)'}`);
}

/**
 * Adds the bucket list that starts at `offset` of `bytes` into `counts`, each bucket at `indexes[bucket]` when
 * given (a coarser histogram's); returns the offset after it. No object per bucket.
 */
export function addBuckets(
  format: BucketFormat,
  bytes: Uint8Array,
  offset: number,
  counts: Float64Array,
  indexes?: Int32Array,
): number {
  const reader = new VarintReader(bytes, offset);
  const add = (index: number, count: number) => {
    const at = indexes ? (indexes[index] ?? counts.length) : index;
    counts[at] = (counts[at] as number) + count;
  };
  const length = (indexes ?? counts).length;
  let inside: boolean;
  if (format === BucketFormat.pairs) {
    const pairs = reader.read();
    let index = -1;
    for (let pair = 0; pair < pairs; pair++) {
      index += reader.read() + 1;
      add(index, reader.read());
    }
    inside = index < length;
  } else {
    const span = reader.read();
    if (span === 0) return reader.position;
    let index = reader.read();
    const end = index + span;
    while (index < end) {
      const count = reader.read();
      if (count > 0) add(index++, count);
      else index += reader.read() + 1;
    }
    inside = index === end && end <= length;
  }
  if (reader.position > bytes.length || !inside)
    throw new EncodingError('histogram buckets end early or fall outside the histogram');
  return reader.position;
}

/**
 * A compressed blob of bucket lists and whole numbers, as VarintWriter wrote them, read in order: each bucket
 * list is added into a merge's counts.
 */
export class BucketListReader extends VarintReader {
  private readonly format: BucketFormat;

  constructor(encoded: Uint8Array) {
    const { format, bytes } = decompressBuckets(encoded);
    super(bytes);
    this.format = format;
  }

  /** Whether everything was read: a writer from before a part was added stops short of it. */
  get done(): boolean {
    return this.position >= this.bytes.length;
  }

  /** Adds the next bucket list into counts. */
  addBucketsTo(counts: Float64Array): void {
    this.position = addBuckets(this.format, this.bytes, this.position, counts);
  }
}

export function encodeHistogram(histogram: Histogram): Uint8Array {
  const writer = new VarintWriter();
  writer.writeBuckets(histogram);
  return writer.finish();
}

let twoDigitTimelineIndexes: Int32Array | undefined;

/**
 * For each bucket of a timeline second stored with 2 significant digits, the bucket of today's timeline
 * histogram holding its values: both double their bucket width at the same powers of two, so each older
 * bucket lies inside one of today's and adding it there is exact.
 */
export function twoDigitTimelineBuckets(): Int32Array {
  if (!twoDigitTimelineIndexes) {
    const fine = build(2);
    const coarse = build(SIGNIFICANT_DIGITS.timeline);
    twoDigitTimelineIndexes = new Int32Array(fine.countsArrayLength);
    for (let index = 0; index < fine.countsArrayLength; index++)
      twoDigitTimelineIndexes[index] = coarse.countsArrayIndex(fine.valueFromIndex(index));
    fine.destroy();
    coarse.destroy();
  }
  return twoDigitTimelineIndexes;
}

/** Adds an encoded histogram (any format) into a merge's count array. */
export function addEncodedHistogram(
  encoded: EncodedHistogram,
  counts: Float64Array,
  kind: HistogramKind = 'precise',
): void {
  // Timelines were stored with 2 significant digits before the runs format: mapped onto today's buckets.
  const older = kind === 'timeline' ? twoDigitTimelineBuckets() : undefined;
  if (typeof encoded === 'string') {
    const histogram = asBuckets(decodeLegacyHistogram(encoded, kind));
    for (let index = 0; index < histogram.countsArrayLength; index++) {
      const count = histogram.getCountAtIndex(index);
      const at = older ? (older[index] as number) : index;
      if (count > 0) counts[at] = (counts[at] as number) + count;
    }
    histogram.destroy();
    return;
  }
  const { format, bytes } = decompressBuckets(encoded);
  addBuckets(format, bytes, 0, counts, format === BucketFormat.pairs ? older : undefined);
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

/** The latency summary of merged bucket counts; the histogram read for it is freed at once. */
export function summarizeCounts(counts: Float64Array, kind: HistogramKind = 'precise'): LatencySummary {
  const histogram = histogramFromCounts(counts, kind);
  const summary = summarize(histogram);
  histogram.destroy();
  return summary;
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
  return typeof encoded === 'string'
    ? decodeLegacyHistogram(encoded, kind)
    : mergeHistograms([encoded], kind);
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
