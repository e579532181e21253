// Shard results made of real recorded samples, in today's encoding and in the ones rows were stored in before:
// for the merge's exactness tests and for the merge-cost bench.

import * as hdr from 'hdr-histogram-js';
import type { ShardResult } from '../../lib/loadtest/engine.ts';
import { createHistogram, encodeHistogram, type Histogram, recordMs } from '../../lib/loadtest/histogram.ts';
import type { LegacyShardResult } from '../../lib/loadtest/report.ts';
import { TimelineWriter } from '../../lib/loadtest/timeline.ts';
import {
  createTwoDigitTimelineHistogram,
  encodePairsHistogram,
  PairsTimelineWriter,
} from './pairs-format.ts';

export const SYNTHETIC_RUN_STARTED_AT = Date.parse('2026-01-05T10:00:00Z');

/** Deterministic pseudo-random numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) % 4_294_967_296;
    return state / 4_294_967_296;
  };
}

/** Every sample of every shard kept, as one histogram would: the figures a merge must reproduce. */
export class SampleTruth {
  readonly latency = createHistogram();
  readonly uncorrected = createHistogram();
  readonly seconds = new Map<number, { requests: number; errors: number; histogram: Histogram }>();
  requests = 0;

  second(second: number) {
    let entry = this.seconds.get(second);
    if (!entry) {
      entry = { requests: 0, errors: 0, histogram: createHistogram('timeline') };
      this.seconds.set(second, entry);
    }
    return entry;
  }
}

export interface SyntheticShardOptions {
  seed: number;
  fromSecond: number;
  seconds: number;
  /** Mean requests per second; each second draws between 0.5× and 1.5× of it (at least one). */
  requestsPerSecond: number;
  /** Share of seconds in which the shard completes nothing (0 by default). */
  idleShare?: number;
  /** Receives every sample, when the caller checks a merge against it. */
  truth?: SampleTruth;
  /** Also encode the result as rows were stored before bucket counts (slower: one HDR encode per second). */
  legacy?: boolean;
  /** Also encode the result in the pairs format (2 significant digits per second, deflated). */
  pairs?: boolean;
}

export interface SyntheticShard {
  result: ShardResult;
  legacy: LegacyShardResult | null;
  pairs: ShardResult | null;
}

/**
 * One shard of one round: latencies around 20 ms with a long tail and a slow 3 %, a few refused connections
 * (counted, no latency) and 503s, the open model's uncorrected latency below the corrected one.
 */
export function syntheticShard(options: SyntheticShardOptions): SyntheticShard {
  const random = seededRandom(options.seed);
  const { truth } = options;
  const latency = createHistogram();
  const uncorrected = createHistogram();
  const timeline = new TimelineWriter();
  const legacyTimeline: LegacyShardResult['timeline'] = [];
  const perSecond = createHistogram('timeline');
  const pairsTimeline = new PairsTimelineWriter();
  const pairsSecond = createTwoDigitTimelineHistogram();
  let requests = 0;
  let failed = 0;
  let refusedTotal = 0;
  for (let second = options.fromSecond; second < options.fromSecond + options.seconds; second++) {
    if (random() < (options.idleShare ?? 0)) continue;
    perSecond.reset();
    pairsSecond.reset();
    const count = Math.max(1, Math.round(options.requestsPerSecond * (0.5 + random())));
    let errors = 0;
    for (let index = 0; index < count; index++) {
      const refused = random() < 0.02;
      const milliseconds = (random() < 0.03 ? 400 : 20) * Math.exp(random() ** 2 * 2.5) + random();
      const late = milliseconds + (random() < 0.1 ? random() * 50 : 0);
      requests++;
      if (refused || random() < 0.05) {
        errors++;
        failed++;
      }
      if (refused) {
        refusedTotal++;
        continue;
      }
      recordMs(latency, late);
      recordMs(uncorrected, milliseconds);
      recordMs(perSecond, late);
      if (options.pairs || options.legacy) recordMs(pairsSecond, late);
      if (truth) {
        recordMs(truth.latency, late);
        recordMs(truth.uncorrected, milliseconds);
        recordMs(truth.second(second).histogram, late);
      }
    }
    if (truth) {
      truth.second(second).requests += count;
      truth.second(second).errors += errors;
      truth.requests += count;
    }
    timeline.add(second, count, errors, perSecond);
    if (options.pairs) pairsTimeline.add(second, count, errors, pairsSecond);
    if (options.legacy)
      legacyTimeline.push({
        second,
        requests: count,
        errors,
        histogram: hdr.encodeIntoCompressedBase64(pairsSecond),
      });
  }
  const summary = {
    requests,
    ok: requests - failed,
    failed,
    remaining: 0,
    aborted: false,
    statusCodes: { 200: requests - failed, 503: failed - refusedTotal },
    errors: { timeout: 0, refused: refusedTotal, reset: 0, dns: 0, other: 0 },
    startedAt: SYNTHETIC_RUN_STARTED_AT + options.fromSecond * 1000,
    finishedAt: SYNTHETIC_RUN_STARTED_AT + (options.fromSecond + options.seconds) * 1000,
    generator: {
      eventLoopLagP99Ms: (options.seed % 7) + 1,
      eventLoopLagMaxMs: 20,
      sendLagP99Ms: options.seed % 5,
      cpuPercent: 30 + (options.seed % 11),
      saturated: false,
    },
  };
  const shard: SyntheticShard = {
    result: {
      ...summary,
      latency: encodeHistogram(latency),
      latencyUncorrected: encodeHistogram(uncorrected),
      timeline: timeline.finish(),
    },
    legacy: options.legacy
      ? {
          ...summary,
          latency: hdr.encodeIntoCompressedBase64(latency),
          latencyUncorrected: hdr.encodeIntoCompressedBase64(uncorrected),
          timeline: legacyTimeline,
        }
      : null,
    pairs: options.pairs
      ? {
          ...summary,
          latency: encodePairsHistogram(latency),
          latencyUncorrected: encodePairsHistogram(uncorrected),
          timeline: pairsTimeline.finish(),
        }
      : null,
  };
  pairsSecond.destroy();
  perSecond.destroy();
  latency.destroy();
  uncorrected.destroy();
  return shard;
}
