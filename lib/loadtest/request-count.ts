// How many requests a run will send, counted as the engine sends them.

import type { LoadTestOptions, OpenModelOptions } from './options.ts';
import { RateSchedule } from './schedule.ts';

/** The integral of the open model's rate: requests due, before the timeline counts whole ones. */
export function expectedRequestsExactly(options: OpenModelOptions): number {
  return options.stages.reduce(
    (sum, stage) => sum + ((stage.from + stage.to) / 2) * stage.durationSeconds,
    0,
  );
}

/**
 * Requests the run will send: exact for the closed model; for the open one, the whole requests its
 * timeline holds, counted as the engine counts them (RateSchedule), so the estimate never promises more.
 */
export function expectedRequests(options: LoadTestOptions): number {
  if (options.model === 'closed') return options.users * options.requestsPerUser;
  return new RateSchedule(options.stages).total;
}
