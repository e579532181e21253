// The events the load-test Lambdas accept, checked at their entry so a wrong one is named rather than crashing.

import { checkEvent, type FieldRule, InvalidEventError } from '../lambda/events.ts';
import type { CoordinatorEvent } from './coordinator-steps.ts';
import type { ShardTask } from './step-deps.ts';

const ROUND_STATE: readonly FieldRule[] = [
  ['state', 'object'],
  ['state.runId', 'string'],
  ['state.round', 'integer'],
  ['state.shards', 'array'],
];

const SHARD_TASK: readonly FieldRule[] = [
  ['runId', 'string'],
  ['round', 'integer'],
  ['shard', 'integer'],
];

const COORDINATOR_RULES: Record<CoordinatorEvent['step'], readonly FieldRule[]> = {
  plan: [['runId', 'string']],
  advance: ROUND_STATE,
  aggregate: ROUND_STATE,
  fail: [['runId', 'string']],
  shardFailed: SHARD_TASK,
};

const COORDINATOR = 'a loadtestCoordinator event';
const COORDINATOR_EXAMPLE = 'functions/events/loadtest-coordinator-plan.json';

/** The state machine names the step; each step needs its own fields. */
export function parseCoordinatorEvent(event: unknown): CoordinatorEvent {
  const { step } = checkEvent<{ step: string }>(
    event,
    COORDINATOR,
    [['step', 'string']],
    COORDINATOR_EXAMPLE,
  );
  const rules = Object.hasOwn(COORDINATOR_RULES, step)
    ? COORDINATOR_RULES[step as CoordinatorEvent['step']]
    : null;
  if (!rules) {
    throw new InvalidEventError(
      COORDINATOR,
      [`step: "${step.slice(0, 40)}" is not one of ${Object.keys(COORDINATOR_RULES).join(', ')}`],
      COORDINATOR_EXAMPLE,
    );
  }
  return checkEvent<CoordinatorEvent>(event, COORDINATOR, rules, COORDINATOR_EXAMPLE);
}

export function parseShardTask(event: unknown): ShardTask {
  return checkEvent<ShardTask>(
    event,
    'a loadtestWorker event',
    SHARD_TASK,
    'functions/events/loadtest-worker.json',
  );
}

/** Load-test options and an optional wait; no event at all means every default. */
export function parseLoadTestEvent(event: unknown): Record<string, unknown> {
  if (event === undefined || event === null || event === '') return {};
  return checkEvent<Record<string, unknown>>(event, 'a loadtest event', [], 'functions/events/loadtest.json');
}
