// Runs only the Aggregate step of one seeded run, in a process of its own, and prints its time and peak memory.
// usage: node bench/support/merge-child.ts DATABASE_URL RUN_ID LAST_ROUND

import { createDb } from '../../lib/db/pool.ts';
import { aggregateStep } from '../../lib/loadtest/coordinator-steps.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { urlTarget } from '../../lib/local/stack.ts';
import { createLogger } from '../../lib/log/logger.ts';

export interface MergeChildResult {
  wallMs: number;
  cpuMs: number;
  /** Peak resident set of this process, in bytes. */
  maxRssBytes: number;
  requests: number;
  timelineSeconds: number;
}

const [url, runId, lastRound] = process.argv.slice(2);
if (!url || !runId || lastRound === undefined) {
  console.error('usage: merge-child.ts DATABASE_URL RUN_ID LAST_ROUND');
  process.exit(2);
}
const db = createDb({
  target: urlTarget(url),
  pool: { size: 1, maxOverflow: 0, recycleSeconds: 0, timeoutSeconds: 10, statementTimeoutMs: 0 },
});
const store = new LoadTestStore(db);
const cpuBefore = process.cpuUsage();
const started = performance.now();
const outcome = await aggregateStep(
  {
    runId,
    round: Number(lastRound),
    startsAt: 0,
    blocks: [0],
    blockCount: 1,
    lastShard: 0,
    distributed: true,
    failedShards: 0,
    done: true,
  },
  { store, logger: createLogger({ level: 'error' }) },
);
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const report = (await store.getRun(runId))?.report;
await db.close();
const result: MergeChildResult = {
  wallMs,
  cpuMs: (cpu.user + cpu.system) / 1000,
  maxRssBytes: process.resourceUsage().maxRSS * 1024,
  requests: outcome.requests,
  timelineSeconds: report?.timeline.length ?? 0,
};
console.log(JSON.stringify(result));
