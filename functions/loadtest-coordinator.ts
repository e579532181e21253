// loadtestCoordinator Lambda: the plan, advance, aggregate and fail steps of the state machine.

import type { Context } from 'aws-lambda';
import { type CoordinatorEvent, coordinatorStep } from '../lib/loadtest/steps.ts';
import { lambdaDeps } from './deps.ts';

export const handler = async (event: CoordinatorEvent, context: Context) => {
  const deps = lambdaDeps();
  return coordinatorStep(event, {
    store: deps.loadTests(),
    logger: deps.logger,
    metrics: deps.metrics(),
    alerts: deps.alerts(context),
    dimensions: deps.dimensions,
  });
};
