// loadtest Lambda: `sls invoke -f loadtest --data '{"users":50,"requests":20}'` starts a run and waits for it.

import type { Context } from 'aws-lambda';
import { launchLoadTest, runSummary, waitForRun } from '../lib/loadtest/launcher.ts';
import { lambdaDeps } from './deps.ts';

/** Time kept back from the Lambda timeout to answer after waiting. */
const ANSWER_MARGIN_MS = 5000;
/**
 * Waiting longer by default would outlast `sls invoke`'s 120 s client timeout, and its retry would start a
 * second run; a longer wait is asked for with "wait" (seconds).
 */
const DEFAULT_WAIT_SECONDS = 100;

export const handler = async (event: Record<string, unknown> | null, context: Context) => {
  const deps = lambdaDeps();
  const { wait, ...input } = event ?? {};
  const store = deps.loadTests();
  const run = await launchLoadTest(input, {
    store,
    limits: deps.config.loadtest,
    starter: deps.starter(context),
    defaultTarget: deps.config.apiUrl,
  });
  deps.logger.info('load test launched', { runId: run.runId, estimate: run.plan.estimate });
  const waitMs = Math.max(
    0,
    Math.min(
      (typeof wait === 'number' && Number.isFinite(wait) ? wait : DEFAULT_WAIT_SECONDS) * 1000,
      context.getRemainingTimeInMillis() - ANSWER_MARGIN_MS,
    ),
  );
  const record = await waitForRun(store, run.runId, waitMs);
  return { estimate: run.plan.estimate, ...runSummary(record, `/v1/loadtests/${run.runId}`) };
};
