// loadtest Lambda: `sls invoke -f loadtest --data '{"users":50,"requests":20}'` starts a run and waits for it.

import type { Context } from 'aws-lambda';
import { parseLoadTestEvent } from '../lib/loadtest/lambda-events.ts';
import { launchLoadTest, runSummary, waitBudgetMs, waitForRun } from '../lib/loadtest/launcher.ts';
import { lambdaDeps } from './deps.ts';

export const handler = async (event: unknown, context: Context) => {
  const { wait, ...input } = parseLoadTestEvent(event);
  const deps = lambdaDeps();
  const store = deps.loadTests();
  const run = await launchLoadTest(input, {
    store,
    limits: deps.config.loadtest,
    starter: deps.starter(context),
    defaultTarget: deps.config.apiUrl,
    capacity: deps.capacity(context),
  });
  deps.logger.info('load test launched', {
    runId: run.runId,
    estimate: run.plan.estimate,
    capacity: run.capacity,
  });
  const waitMs = waitBudgetMs(wait, context.getRemainingTimeInMillis());
  const record = await waitForRun(store, run.runId, waitMs);
  return {
    estimate: run.plan.estimate,
    capacity: run.capacity,
    ...runSummary(record, `/v1/loadtests/${run.runId}`),
  };
};
