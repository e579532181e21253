// A load-test report built as the Aggregate step builds it, from a run's input and its shards' results.

import type { ShardResult } from '../../lib/loadtest/engine.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { planLoadTest } from '../../lib/loadtest/plan.ts';
import { buildReport, type LoadTestReport } from '../../lib/loadtest/report.ts';

/** One round; each result is one shard, in order, and every planned shard reported. */
export function reportOf(input: Record<string, unknown>, results: ShardResult[]): LoadTestReport {
  const options = parseLoadTestInput(input);
  return buildReport({
    runId: 'test-run',
    options,
    plan: planLoadTest(options, DEFAULT_LIMITS),
    shards: results.map((result, shard) => ({ round: 0, shard, attempts: 1, result })),
    expectedShards: results.length,
    aborted: false,
  });
}
