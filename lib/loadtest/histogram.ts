// Latency histograms (HDR, microsecond resolution): record, serialise, merge, read exact percentiles.

import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

const LOWEST_US = 1;
/** One hour: no latency worth recording is longer. */
const HIGHEST_US = 3_600_000_000;
const SIGNIFICANT_DIGITS = 3;

/**
 * precise: the run's latency distribution (3 significant digits).
 * timeline: one second of the run at a time (2 significant digits), encoded as soon as the second is over.
 */
export function createHistogram(kind: 'precise' | 'timeline' = 'precise'): Histogram {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: kind === 'precise' ? SIGNIFICANT_DIGITS : 2,
    useWebAssembly: false,
  });
}

export function recordMs(histogram: Histogram, milliseconds: number): void {
  const micros = Math.round(milliseconds * 1000);
  histogram.recordValue(Math.min(HIGHEST_US, Math.max(LOWEST_US, micros)));
}

export function encodeHistogram(histogram: Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string, kind: 'precise' | 'timeline' = 'precise'): Histogram {
  return hdr.decodeFromCompressedBase64(encoded, kind === 'precise' ? 32 : 'packed', false);
}

/** Adds every encoded histogram into one; merging counts is exact, unlike averaging percentiles. */
export function mergeHistograms(
  encoded: Iterable<string>,
  kind: 'precise' | 'timeline' = 'precise',
): Histogram {
  const merged = createHistogram(kind);
  for (const item of encoded) {
    const histogram = decodeHistogram(item, kind);
    merged.add(histogram);
    histogram.destroy();
  }
  return merged;
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
