// loadtest Lambda: `sls invoke -f loadtest --data '{"users":50,"requests":20}'` starts a run and waits for it.

import type { Context } from 'aws-lambda';
import { parseLoadTestEvent } from '../lib/loadtest/lambda-events.ts';
import { launchLoadTest, runSummary, waitBudgetMs, waitForRun } from '../lib/loadtest/launcher.ts';
import { LoadTestStore } from '../lib/loadtest/store.ts';
import { invocationLogFields } from '../lib/log/lambda-context.ts';
import { lambdaCapacityCheck } from './adapters/capacity.ts';
import { lambdaDb } from './adapters/database.ts';
import { stepFunctionsStarter } from './adapters/step-functions.ts';
import { lambdaEnvironment } from './environment.ts';

const environment = lambdaEnvironment();
const { config } = environment;
// The pool opens on first use, so a misconfigured database fails the invocation that needs it.
const store = () => new LoadTestStore(lambdaDb(environment));
const starter = stepFunctionsStarter(config);
const capacity = lambdaCapacityCheck(config);
const logFields = invocationLogFields(config.traceHeader);

export const handler = async (event: unknown, context: Context) => {
  const { wait, ...input } = parseLoadTestEvent(event);
  const logger = environment.logger.child(logFields(context));
  const loadTests = store();
  const run = await launchLoadTest(input, {
    store: loadTests,
    limits: config.loadtest,
    starter: starter(context),
    defaultTarget: config.apiUrl,
    capacity: capacity(context),
  });
  logger.info('load test launched', {
    runId: run.runId,
    estimate: run.plan.estimate,
    capacity: run.capacity,
  });
  const waitMs = waitBudgetMs(wait, context.getRemainingTimeInMillis());
  const record = await waitForRun(loadTests, run.runId, waitMs);
  return {
    estimate: run.plan.estimate,
    capacity: run.capacity,
    ...runSummary(record, `/v1/loadtests/${run.runId}`),
  };
};
