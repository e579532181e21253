import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createStepFunctionsStarter, stateMachineArn } from '../../lib/loadtest/step-functions.ts';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:loadwatch-prod-loadtest';

describe('stateMachineArn', () => {
  it('builds the ARN in the aws partition by default', () => {
    expect(stateMachineArn('eu-west-1', '123456789012', 'loadwatch-prod-loadtest')).toBe(MACHINE);
  });

  it('builds the ARN in another partition when given one', () => {
    expect(stateMachineArn('cn-north-1', '123456789012', 'lw', 'aws-cn')).toBe(
      'arn:aws-cn:states:cn-north-1:123456789012:stateMachine:lw',
    );
  });
});

describe('createStepFunctionsStarter', () => {
  const sfn = mockClient(SFNClient);
  const starter = () => createStepFunctionsStarter({ stateMachineArn: MACHINE, client: new SFNClient({}) });

  beforeEach(() => {
    sfn.reset();
  });
  afterAll(() => {
    sfn.restore();
  });

  it('starts an execution named after the run, with the run id as input, and returns its ARN', async () => {
    const executionArn = `${MACHINE.replace(':stateMachine:', ':execution:')}:run-42`;
    sfn.on(StartExecutionCommand).resolves({ executionArn, startDate: new Date() });
    await expect(starter().start('run-42')).resolves.toBe(executionArn);
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toEqual({
      stateMachineArn: MACHINE,
      name: 'run-42',
      input: '{"runId":"run-42"}',
    });
  });

  it('throws when Step Functions answers without an execution ARN', async () => {
    sfn.on(StartExecutionCommand).resolves({});
    await expect(starter().start('run-43')).rejects.toThrow(/no execution ARN/);
  });

  it('passes a Step Functions error through unchanged', async () => {
    const refused = new ExecutionAlreadyExists({
      message: 'Execution Already Exists: run-44',
      $metadata: {},
    });
    sfn.on(StartExecutionCommand).rejects(refused);
    await expect(starter().start('run-44')).rejects.toBe(refused);
  });
});
