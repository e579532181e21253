// The Mann-Whitney U test: whether one run's per-second samples are larger than another's beyond run-to-run noise.
//
// Rank-based, so one slow second cannot decide it, and free of any assumption about how latencies are
// distributed. Exact (every way of splitting the ranks, ties as midranks) for up to EXACT_LIMIT samples in all;
// the normal approximation with the tie and continuity corrections above that.

/** Most samples of both runs together for which the exact distribution of U is counted. */
export const EXACT_LIMIT = 60;

export interface MannWhitneyResult {
  /** U of the second sample: the pairs (a, b) with b > a, ties counted one half. */
  u: number;
  /** One-sided: the probability of a U at least this large were both samples drawn from one distribution. */
  pValue: number;
  method: 'exact' | 'normal';
  sizes: [number, number];
}

/** Ranks 1..N of the pooled values, tied values sharing the mean of their ranks. */
function midranks(values: number[]): { ranks: number[]; tieGroups: number[] } {
  const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
  const ranks = new Array<number>(values.length);
  const tieGroups: number[] = [];
  for (let start = 0; start < order.length; ) {
    let end = start;
    while (end + 1 < order.length && order[end + 1]?.value === order[start]?.value) end++;
    const rank = (start + end + 2) / 2;
    for (let position = start; position <= end; position++)
      ranks[(order[position] as { index: number }).index] = rank;
    if (end > start) tieGroups.push(end - start + 1);
    start = end + 1;
  }
  return { ranks, tieGroups };
}

/**
 * P(rank sum of `size` ranks drawn without replacement ≥ observed), counting every subset: a table of
 * subsets by size and by sum of doubled ranks (integers, since midranks are halves at worst).
 */
function exactUpperTail(ranks: number[], size: number, observed: number): number {
  const doubled = ranks.map((rank) => Math.round(rank * 2));
  const maxSum = doubled.reduce((sum, rank) => sum + rank, 0);
  // ways[k][s]: subsets of k ranks whose doubled sum is s, over the ranks seen so far.
  const ways = Array.from({ length: size + 1 }, () => new Float64Array(maxSum + 1));
  (ways[0] as Float64Array)[0] = 1;
  let reach = 0;
  for (const rank of doubled) {
    reach += rank;
    for (let k = size; k >= 1; k--) {
      const into = ways[k] as Float64Array;
      const from = ways[k - 1] as Float64Array;
      for (let sum = reach; sum >= rank; sum--)
        into[sum] = (into[sum] as number) + (from[sum - rank] as number);
    }
  }
  const row = ways[size] as Float64Array;
  const threshold = Math.round(observed * 2);
  let total = 0;
  let upper = 0;
  for (let sum = 0; sum <= maxSum; sum++) {
    total += row[sum] as number;
    if (sum >= threshold) upper += row[sum] as number;
  }
  return total > 0 ? upper / total : 1;
}

/** The standard normal distribution function (Abramowitz and Stegun 7.1.26, error under 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly =
    t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/**
 * Tests whether `b` tends to be larger than `a` (one-sided). Both need at least one sample; a pValue of 1
 * means no evidence at all, which is also the answer when every value is the same. `method` forces one way of
 * computing p (the exact count grows with the square of the samples: keep it to a few hundred).
 */
export function mannWhitneyGreater(
  a: number[],
  b: number[],
  method: 'auto' | MannWhitneyResult['method'] = 'auto',
): MannWhitneyResult {
  const sizes: [number, number] = [a.length, b.length];
  if (a.length === 0 || b.length === 0) return { u: 0, pValue: 1, method: 'exact', sizes };
  const { ranks, tieGroups } = midranks([...a, ...b]);
  const rankSumB = ranks.slice(a.length).reduce((sum, rank) => sum + rank, 0);
  const u = rankSumB - (b.length * (b.length + 1)) / 2;
  const total = a.length + b.length;
  if (method === 'exact' || (method === 'auto' && total <= EXACT_LIMIT)) {
    return { u, pValue: Math.min(1, exactUpperTail(ranks, b.length, rankSumB)), method: 'exact', sizes };
  }
  const ties = tieGroups.reduce((sum, group) => sum + group ** 3 - group, 0);
  const variance = ((a.length * b.length) / 12) * (total + 1 - ties / (total * (total - 1)));
  if (variance <= 0) return { u, pValue: 1, method: 'normal', sizes };
  const z = (u - (a.length * b.length) / 2 - 0.5) / Math.sqrt(variance);
  return { u, pValue: 1 - normalCdf(z), method: 'normal', sizes };
}
