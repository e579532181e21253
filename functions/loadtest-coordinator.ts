// loadtestCoordinator Lambda: the plan, advance, aggregate and fail steps of the state machine.

import type { Context } from 'aws-lambda';
import { parseCoordinatorEvent } from '../lib/loadtest/lambda-events.ts';
import { coordinatorStep } from '../lib/loadtest/steps.ts';
import { lambdaDeps } from './deps.ts';

export const handler = async (event: unknown, context: Context) => {
  const step = parseCoordinatorEvent(event);
  const deps = lambdaDeps();
  return coordinatorStep(step, {
    store: deps.loadTests(),
    logger: deps.logger,
    metrics: deps.metrics(),
    alerts: deps.alerts(context),
    dimensions: deps.dimensions,
  });
};
