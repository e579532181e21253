import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAwsClient, STEP_FUNCTIONS } from '../../lib/aws/client.ts';
import { createStepFunctionsStarter, stateMachineArn } from '../../lib/loadtest/step-functions.ts';
import { type AwsRecorder, startAwsRecorder } from '../support/aws-recorder.ts';
import { verifySigV4 } from '../support/sigv4-verifier.ts';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:loadwatch-prod-loadtest';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

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
  let stepFunctions: AwsRecorder;
  const starter = () =>
    createStepFunctionsStarter({
      stateMachineArn: MACHINE,
      client: createAwsClient({
        service: STEP_FUNCTIONS,
        region: 'eu-west-1',
        endpoint: stepFunctions.url,
        credentials: async () => ({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: SECRET }),
        retryBaseMs: 1,
      }),
    });
  const answer = (body: unknown, status = 200) => ({
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify(body),
  });

  beforeAll(async () => {
    stepFunctions = await startAwsRecorder(answer({}));
  });
  beforeEach(() => stepFunctions.reset());
  afterAll(async () => {
    await stepFunctions.close();
  });

  it('starts an execution named after the run, with the run id as input, and returns its ARN', async () => {
    const executionArn = `${MACHINE.replace(':stateMachine:', ':execution:')}:run-42`;
    stepFunctions.enqueue(answer({ executionArn, startDate: 1_767_225_600.5 }));
    await expect(starter().start('run-42')).resolves.toBe(executionArn);
    expect(stepFunctions.requests).toHaveLength(1);
    const [request] = stepFunctions.requests;
    expect(request?.headers['x-amz-target']).toBe('AWSStepFunctions.StartExecution');
    expect(JSON.parse(request?.body.toString('utf8') ?? '')).toEqual({
      stateMachineArn: MACHINE,
      name: 'run-42',
      input: '{"runId":"run-42"}',
    });
    if (request) expect(verifySigV4(request, SECRET).valid).toBe(true);
  });

  it('throws when Step Functions answers without an execution ARN', async () => {
    stepFunctions.enqueue(answer({}));
    await expect(starter().start('run-43')).rejects.toThrow(/no execution ARN/);
  });

  it("passes a Step Functions refusal on with the service's error code", async () => {
    stepFunctions.enqueue(
      answer({ __type: 'ExecutionAlreadyExists', message: 'Execution Already Exists: run-44' }, 400),
    );
    await expect(starter().start('run-44')).rejects.toMatchObject({
      awsCode: 'ExecutionAlreadyExists',
      message: expect.stringContaining('Execution Already Exists: run-44'),
    });
  });
});
