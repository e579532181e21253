// The Mann-Whitney U test against published values, a brute-force count of every split, and its own approximation.

import { describe, expect, it } from 'vitest';
import { mannWhitneyGreater, normalCdf } from '../../lib/loadtest/compare-statistics.ts';
import { seededRandom } from '../support/synthetic-shards.ts';

/** P(U ≥ observed) by listing every way of choosing which pooled values are b's: the definition itself. */
function bruteForcePValue(a: number[], b: number[]): number {
  const pooled = [...a, ...b];
  const uOf = (chosen: number[]) => {
    const rest = pooled.filter((_, index) => !chosen.includes(index));
    let u = 0;
    for (const index of chosen) {
      for (const other of rest) {
        const value = pooled[index] as number;
        u += value > other ? 1 : value === other ? 0.5 : 0;
      }
    }
    return u;
  };
  const observed = uOf(b.map((_, index) => a.length + index));
  let atLeast = 0;
  let splits = 0;
  const choose = (start: number, chosen: number[]) => {
    if (chosen.length === b.length) {
      splits++;
      if (uOf(chosen) >= observed - 1e-9) atLeast++;
      return;
    }
    for (let index = start; index < pooled.length; index++) choose(index + 1, [...chosen, index]);
  };
  choose(0, []);
  return atLeast / splits;
}

describe('mannWhitneyGreater', () => {
  it('gives 1/252 when every candidate second is slower than every baseline second, five against five', () => {
    const result = mannWhitneyGreater([10, 11, 12, 13, 14], [20, 21, 22, 23, 24]);
    expect(result).toMatchObject({ u: 25, method: 'exact', sizes: [5, 5] });
    expect(result.pValue).toBeCloseTo(1 / 252, 12);
  });

  it('matches the published exact value of a textbook example', () => {
    // SciPy's mannwhitneyu example: U = 17, two-sided p = 0.1111, so one-sided 7/126.
    const males = [19, 22, 16, 29, 24];
    const females = [20, 11, 17, 12];
    const result = mannWhitneyGreater(females, males);
    expect(result.u).toBe(17);
    expect(result.pValue).toBeCloseTo(7 / 126, 12);
  });

  it('counts ties as midranks exactly as listing every split does', () => {
    const a = [3, 3, 4, 5, 5, 5, 7];
    const b = [4, 5, 5, 6, 7, 7];
    expect(mannWhitneyGreater(a, b).pValue).toBeCloseTo(bruteForcePValue(a, b), 12);
    expect(mannWhitneyGreater(b, a).pValue).toBeCloseTo(bruteForcePValue(b, a), 12);
  });

  it('finds no evidence when the samples are the same or the candidate is faster', () => {
    expect(mannWhitneyGreater([5, 5, 5, 5], [5, 5, 5, 5]).pValue).toBeGreaterThan(0.5);
    expect(mannWhitneyGreater([20, 21, 22, 23], [10, 11, 12, 13]).pValue).toBe(1);
    const flat = Array.from({ length: 40 }, () => 7);
    expect(mannWhitneyGreater(flat, flat)).toMatchObject({ method: 'normal', pValue: 1 });
    expect(mannWhitneyGreater([], [1, 2]).pValue).toBe(1);
  });

  it('approximates the exact p-value closely with the normal distribution at thirty seconds a run', () => {
    const random = seededRandom(11);
    const a = Array.from({ length: 30 }, () => 100 + Math.round(random() * 40));
    const b = Array.from({ length: 30 }, () => 104 + Math.round(random() * 40));
    const exact = mannWhitneyGreater(a, b, 'exact').pValue;
    const normal = mannWhitneyGreater(a, b, 'normal').pValue;
    expect(exact).toBeGreaterThan(0.001);
    expect(exact).toBeLessThan(0.5);
    expect(Math.abs(normal - exact)).toBeLessThan(0.005);
  });

  it('rarely calls two samples of one distribution different: about as often as the significance level', () => {
    const random = seededRandom(5);
    let significant = 0;
    const trials = 400;
    for (let trial = 0; trial < trials; trial++) {
      const draw = () => Array.from({ length: 10 }, () => 50 + random() * 10);
      if (mannWhitneyGreater(draw(), draw()).pValue < 0.05) significant++;
    }
    expect(significant / trials).toBeGreaterThan(0.02);
    expect(significant / trials).toBeLessThan(0.08);
  });
});

describe('normalCdf', () => {
  it('gives the standard normal distribution to six decimals', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1.644854)).toBeCloseTo(0.05, 6);
  });
});
