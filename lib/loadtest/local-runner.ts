// Runs the deployed state machine's own definition in-process with aws-local-stepfunctions.

import { StateMachine } from 'aws-local-stepfunctions';
import {
  advanceStep,
  aggregateStep,
  failStep,
  planStep,
  type RoundState,
  type RunOutcome,
  shardFailedStep,
} from './coordinator-steps.ts';
import { runShard } from './engine.ts';
import { shardStep } from './shard-step.ts';
import { createShardThreadPool, type ShardThreadPool } from './shard-thread-pool.ts';
import definition from './state-machine.asl.json' with { type: 'json' };
import type { ShardTask, StepDeps } from './step-deps.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The definition with each Lambda reference (an Fn::GetAtt for CloudFormation) turned into a placeholder ARN. */
export function localDefinition(): Record<string, Json> {
  const replace = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(replace);
    if (value !== null && typeof value === 'object') {
      const getAtt = value['Fn::GetAtt'];
      if (Array.isArray(getAtt)) return `arn:aws:lambda:us-east-1:000000000000:function:${String(getAtt[0])}`;
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replace(item)]));
    }
    return value;
  };
  return replace(definition as unknown as Json) as Record<string, Json>;
}

/** Task state name → the step it runs; every Task state of the definition must be here. */
export function localTaskHandlers(deps: StepDeps): Record<string, (input: unknown) => Promise<unknown>> {
  const shard = (input: unknown) =>
    shardStep(input as ShardTask, { ...deps, runShard: deps.engine ?? runShard });
  const shardFailed = (input: unknown) => shardFailedStep(input as ShardTask, deps);
  return {
    Plan: (input) => planStep(input as { runId: string }, deps),
    RunShard: shard,
    RunShardDistributed: shard,
    ShardFailed: shardFailed,
    ShardFailedDistributed: shardFailed,
    Advance: (input) => advanceStep((input as { state: RoundState }).state, deps),
    Aggregate: (input) => aggregateStep((input as { state: RoundState }).state, deps),
    MarkFailed: (input) => failStep(input as { runId: string }, deps),
  };
}

export interface LocalExecution {
  /** Settles once the threads it started have ended too. */
  result: Promise<RunOutcome>;
  abort(): void;
  /** The worker threads it runs shards on; null when `deps.engine` was handed in. */
  threads: ShardThreadPool | null;
}

/**
 * `definition` defaults to the deployed one; a test may hand in a variant (a shorter Task timeout, say).
 * Shards run on worker threads, one per core, unless `deps.engine` says otherwise; the threads end with the
 * execution, however it ends (a shard it abandoned is stopped, as Lambda would stop it).
 */
export function runLocally(
  runId: string,
  deps: StepDeps,
  definition: Record<string, Json> = localDefinition(),
): LocalExecution {
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const threads = deps.engine ? null : createShardThreadPool();
  const handlers = localTaskHandlers(threads ? { ...deps, engine: threads.runShard } : deps);
  const execution = machine.run({ runId }, { overrides: { taskResourceLocalHandlers: handlers as never } });
  const result = (execution.result as unknown as Promise<RunOutcome>).finally(() => threads?.close());
  return {
    result,
    abort: () => {
      execution.abort();
      void threads?.close();
    },
    threads,
  };
}

/** Starts executions in this process, for the local stack's API: the run proceeds in the background. */
export function createLocalStarter(deps: StepDeps): import('./launcher.ts').ExecutionStarter {
  return {
    async start(runId) {
      runLocally(runId, deps).result.catch((error: unknown) =>
        deps.logger.error('local load test execution failed', { runId, error }),
      );
      return `local:execution:${runId}`;
    },
  };
}
