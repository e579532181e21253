// loadtestCoordinator Lambda: the plan, advance, aggregate and fail steps of the state machine.

import type { Context } from 'aws-lambda';
import { coordinatorStep } from '../lib/loadtest/coordinator-steps.ts';
import { parseCoordinatorEvent } from '../lib/loadtest/lambda-events.ts';
import { LoadTestStore } from '../lib/loadtest/store.ts';
import { invocationLogFields } from '../lib/log/lambda-context.ts';
import { snsAlerts } from './adapters/alerts.ts';
import { lambdaDb } from './adapters/database.ts';
import { cloudWatchMetrics, serviceDimensions } from './adapters/metrics.ts';
import { lambdaEnvironment } from './environment.ts';

const environment = lambdaEnvironment();
const { config, logger } = environment;
// The pool opens on first use, so a misconfigured database fails the invocation that needs it.
const store = () => new LoadTestStore(lambdaDb(environment), { retention: config.retention });
const metrics = cloudWatchMetrics(config);
const alerts = snsAlerts(config);
const logFields = invocationLogFields(config.traceHeader);

export const handler = async (event: unknown, context: Context) => {
  const step = parseCoordinatorEvent(event);
  return coordinatorStep(step, {
    store: store(),
    logger: logger.child(logFields(context)),
    metrics,
    alerts: alerts(context),
    dimensions: serviceDimensions(config),
  });
};
