// ExecutionStarter for AWS Step Functions; the state machine ARN is built from its name at run time.

import { type AwsClient, createAwsClient, STEP_FUNCTIONS } from '../aws/client.ts';
import type { ExecutionStarter } from './launcher.ts';

export function stateMachineArn(region: string, accountId: string, name: string, partition = 'aws'): string {
  return `arn:${partition}:states:${region}:${accountId}:stateMachine:${name}`;
}

export function createStepFunctionsStarter(options: {
  stateMachineArn: string;
  region?: string;
  client?: AwsClient;
}): ExecutionStarter {
  const client = options.client ?? createAwsClient({ service: STEP_FUNCTIONS, region: options.region });
  return {
    async start(runId) {
      const result = await client.call<{ executionArn?: string }>('StartExecution', {
        stateMachineArn: options.stateMachineArn,
        // The run id as the execution name makes a repeated start of the same run a no-op.
        name: runId,
        input: JSON.stringify({ runId }),
      });
      if (!result.executionArn) throw new Error('Step Functions returned no execution ARN');
      return result.executionArn;
    },
  };
}
