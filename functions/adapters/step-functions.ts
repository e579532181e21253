// Starts load-test executions on the stack's state machine, whose ARN the first invocation's context completes.

import type { Context } from 'aws-lambda';
import { type Config, ConfigError } from '../../lib/config/config.ts';
import type { ExecutionStarter } from '../../lib/loadtest/launcher.ts';
import { arnParts, perContainer } from '../environment.ts';

export function stepFunctionsStarter(config: Config): (context: Context) => ExecutionStarter {
  return perContainer((context) => {
    const name = config.aws.stateMachineName;
    if (!name) throw new ConfigError(['LOADTEST_STATE_MACHINE_NAME: is required to start load tests on AWS']);
    const { partition, region, accountId } = arnParts(context);
    let starter: Promise<ExecutionStarter> | undefined;
    return {
      async start(runId) {
        // The bundle holds the SDK either way; evaluating it waits for the first run, off every cold start.
        starter ??= import('../../lib/loadtest/step-functions.ts').then((module) =>
          module.createStepFunctionsStarter({
            stateMachineArn: module.stateMachineArn(region, accountId, name, partition),
            region,
          }),
        );
        return (await starter).start(runId);
      },
    };
  });
}
