// Order statistics for benchmark samples: percentiles by linear interpolation between ranks.

/** The p-th percentile (0 to 100) of the samples, interpolating between the two nearest ranks. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile: no samples');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: ${p} is not between 0 and 100`);
  const ordered = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (ordered.length - 1);
  const lower = ordered[Math.floor(rank)] ?? Number.NaN;
  const upper = ordered[Math.ceil(rank)] ?? Number.NaN;
  return lower + (upper - lower) * (rank - Math.floor(rank));
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export interface Spread {
  median: number;
  p90: number;
}

export function spread(samples: readonly number[]): Spread {
  return { median: median(samples), p90: percentile(samples, 90) };
}
