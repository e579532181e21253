// Load tests run through the local state machine against the demo shop, on a migrated database of their own.

import { afterAll, beforeAll } from 'vitest';
import { runShard } from '../../lib/loadtest/engine.ts';
import { DEFAULT_LIMITS, type LoadTestLimits } from '../../lib/loadtest/limits.ts';
import { runLocally } from '../../lib/loadtest/local-runner.ts';
import { createLoadTest } from '../../lib/loadtest/service.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { createDemoShop, type DemoShop } from '../../lib/local/demo-shop.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { useMigratedDatabase } from './database.ts';
import { listenLocally } from './listen.ts';

/** Registers the hooks; `run` starts a load test on the shop (its shards on this thread) and waits for its end. */
export function useShopRuns() {
  const postgres = useMigratedDatabase({ poolSize: 4 });
  let store: LoadTestStore | undefined;
  let shop: DemoShop | undefined;
  let target = '';
  beforeAll(async () => {
    store = new LoadTestStore(postgres.db);
    shop = createDemoShop({ record: true });
    target = await listenLocally(shop.server);
  });
  afterAll(() => {
    shop?.server.closeAllConnections();
    shop?.server.close();
  });
  const ready = () => {
    if (!store || !shop) throw new Error('the shop runs are set up in beforeAll: use them in a test');
    return { store, shop };
  };
  return {
    get store() {
      return ready().store;
    },
    get shop() {
      return ready().shop;
    },
    async run(input: Record<string, unknown>, limits: LoadTestLimits = DEFAULT_LIMITS) {
      const { store } = ready();
      const created = await createLoadTest({ target, ...input }, store, limits);
      const outcome = await runLocally(created.runId, {
        store,
        logger: createLogger({ level: 'error' }),
        engine: runShard,
      }).result;
      const record = await store.getRun(created.runId);
      return { runId: created.runId, outcome, record };
    },
  };
}
