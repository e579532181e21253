// A shard's side of the live results: writes its snapshots in order, the newest winning, and when its turn
// comes merges every shard's snapshot into the run's live figures and judges its abort thresholds on them.
// No shard judges on its own figures, and the API only reads what the turn wrote.

import type { Logger } from '../log/logger.ts';
import type { EngineHooks } from './engine.ts';
import {
  abortThresholds,
  describeAbortReason,
  lostAbortThreshold,
  readLiveResults,
  type ShardSnapshot,
  snapshotIntervalSeconds,
} from './live.ts';
import type { PlannedRun, ShardTask } from './step-deps.ts';
import type { LoadTestStore } from './store.ts';

export interface LiveShard {
  /** For the engine: where its snapshots go, and how often it takes one. */
  hooks: Required<Pick<EngineHooks, 'onSnapshot' | 'snapshotEveryMs'>>;
  /**
   * Takes the run's turn when it is this shard's: stores the merged figures and judges the abort thresholds.
   * True once one is lost and the run has been asked to stop; false otherwise, or when it was not its turn.
   */
  judge(): Promise<boolean>;
  /**
   * After the engine returns: ends the shard's turns, waits for one in progress, and resolves once the latest
   * snapshot (the shard's final figures) is written, so that nothing of this shard lands after the Aggregate step.
   */
  flush(): Promise<void>;
}

export function createLiveShard(
  run: PlannedRun,
  task: ShardTask,
  runStartedAt: number,
  deps: { store: LoadTestStore; logger: Logger },
): LiveShard {
  const everySeconds = snapshotIntervalSeconds(run.plan.shards);
  let latest: ShardSnapshot | null = null;
  let writing: Promise<void> | null = null;
  let warned = false;
  const drain = async () => {
    while (latest) {
      const snapshot = latest;
      latest = null;
      // Live figures are a view: a snapshot not written must not fail a shard that is measuring well.
      await deps.store.saveShardProgress(task.runId, task.round, task.shard, snapshot).catch((error) => {
        if (!warned) deps.logger.warn('load test progress not written', { runId: task.runId, error });
        warned = true;
      });
    }
    writing = null;
  };

  const thresholds = abortThresholds(run.options.thresholds);
  // Not before the shard has sent for one interval: before, it has nothing to add, and a round's thousands of
  // shards would all ask for the turn at their start instant.
  let nextTurn = Math.max(Date.now(), task.startsAt ?? 0) + everySeconds * 1000;
  let judging: Promise<boolean> | null = null;
  let closed = false;
  const takeTurn = async () => {
    try {
      // One shard of the whole run wins each turn; the others see the abort flag at their next poll.
      if (!(await deps.store.takeLiveCheck(task.runId, everySeconds * 0.9))) return false;
      const live = await readLiveResults(deps.store, run);
      if (live.shards.reporting === 0) return false;
      await deps.store.saveLiveResults(task.runId, live);
      if (thresholds.length === 0 || live.totals.requests === 0) return false;
      const lost = lostAbortThreshold(thresholds, live, (Date.now() - runStartedAt) / 1000);
      if (!lost) return false;
      await deps.store.requestAbort(task.runId, lost);
      deps.logger.warn('load test aborted by its threshold', {
        runId: task.runId,
        reason: describeAbortReason(lost),
      });
      return true;
    } finally {
      judging = null;
    }
  };
  const judge = async () => {
    if (closed || judging || Date.now() < nextTurn) return false;
    nextTurn = Date.now() + everySeconds * 1000;
    judging = takeTurn();
    return judging;
  };

  return {
    hooks: {
      snapshotEveryMs: everySeconds * 1000,
      onSnapshot: (snapshot) => {
        latest = snapshot;
        writing ??= drain();
      },
    },
    judge,
    flush: async () => {
      closed = true;
      await judging?.catch(() => undefined);
      await writing;
    },
  };
}
