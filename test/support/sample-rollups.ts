// What the tests of the rollups kept by triggers on monitor_samples share: writers racing a prune, and a rollup's
// migration reverted and applied again.

import { expect } from 'vitest';
import type { DatabaseTarget } from '../../lib/config/config.ts';
import { runMigrateRequest } from '../../lib/db/migrate-command.ts';
import { listMigrations } from '../../lib/db/migrations.ts';
import { RETENTION_DEFAULTS } from '../../lib/db/retention.ts';
import type { Sample } from '../../lib/monitor/probe.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { testPool } from './database.ts';

/**
 * `writers` monitors each storing 15 cycles of the checks' samples (7 s apart, a minute after `now`) while a
 * prune of everything older than `pruneDays` runs in batches of 200, and `alongside` with them, on one pool.
 */
export async function writeWhilePruning(
  target: DatabaseTarget,
  options: {
    keys: string[];
    now: Date;
    writers: number;
    pruneDays: number;
    sample: (cycle: number, index: number) => Pick<Sample, 'ok' | 'latencyMs'>;
    alongside?: (store: MonitorStore) => Promise<unknown>;
  },
): Promise<void> {
  const pool = testPool(target, 4);
  try {
    const cycles = async (store: MonitorStore, writer: number) => {
      for (let cycle = 0; cycle < 15; cycle++) {
        const at = new Date(options.now.getTime() + 60_000 + cycle * 7_000 + writer);
        await store.insertSamples(
          options.keys.map(
            (key, index) =>
              ({ key, at, status: 200, error: null, ...options.sample(cycle, index) }) as Sample,
          ),
        );
      }
    };
    const writers = Array.from({ length: options.writers }, () => new MonitorStore(pool));
    const pruner = new MonitorStore(pool, {
      retention: { ...RETENTION_DEFAULTS, sampleBatchRows: 200, maxBatches: 10 },
    });
    await Promise.all([
      ...writers.map(cycles),
      pruner.prune(options.pruneDays, options.now),
      options.alongside?.(new MonitorStore(pool)),
    ]);
  } finally {
    await pool.close();
  }
}

/** Reverts `migration` and every one after it, runs `meanwhile`, and applies them again. */
export async function revertAndReapply(
  target: DatabaseTarget,
  migration: string,
  meanwhile: () => Promise<unknown>,
): Promise<void> {
  const known = listMigrations();
  const reverted = known.slice(known.indexOf(migration));
  const down = await runMigrateRequest(target, { action: 'down', count: reverted.length });
  expect(down.ran).toEqual([...reverted].reverse());
  await meanwhile();
  const up = await runMigrateRequest(target, { action: 'up' });
  expect(up.ran).toEqual(reverted);
}
