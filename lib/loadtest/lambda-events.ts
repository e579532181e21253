// The events the load-test Lambdas accept, checked at their entry so a wrong one is named rather than crashing.

import * as v from 'valibot';
import { eventInteger, eventList, eventObject, eventString, parseEvent } from '../lambda/events.ts';
import type { CoordinatorEvent } from './coordinator-steps.ts';
import type { ShardTask } from './step-deps.ts';

const RUN = eventObject({ runId: eventString() });

const ROUND_STATE = eventObject({
  state: eventObject({ runId: eventString(), round: eventInteger(), shards: eventList() }),
});

const SHARD_TASK = eventObject({ runId: eventString(), round: eventInteger(), shard: eventInteger() });

const COORDINATOR_STEPS = {
  plan: RUN,
  advance: ROUND_STATE,
  aggregate: ROUND_STATE,
  fail: RUN,
  shardFailed: SHARD_TASK,
} as const satisfies Record<CoordinatorEvent['step'], v.GenericSchema>;

const STEP_NAMES = Object.keys(COORDINATOR_STEPS) as [
  CoordinatorEvent['step'],
  ...CoordinatorEvent['step'][],
];

const COORDINATOR_STEP = eventObject({
  step: v.pipe(
    eventString(),
    v.picklist(
      STEP_NAMES,
      (issue) => `"${String(issue.input).slice(0, 40)}" is not one of ${STEP_NAMES.join(', ')}`,
    ),
  ),
});

const COORDINATOR = 'a loadtestCoordinator event';
const COORDINATOR_EXAMPLE = 'functions/events/loadtest-coordinator-plan.json';

/**
 * The state machine names the step; each step needs its own fields. The schemas check what the steps read
 * before anything else; the rest of a round's state is the state machine's own output, passed through.
 */
export function parseCoordinatorEvent(event: unknown): CoordinatorEvent {
  const { step } = parseEvent(event, COORDINATOR, COORDINATOR_STEP, COORDINATOR_EXAMPLE);
  parseEvent(event, COORDINATOR, COORDINATOR_STEPS[step], COORDINATOR_EXAMPLE);
  return event as CoordinatorEvent;
}

export function parseShardTask(event: unknown): ShardTask {
  return parseEvent(event, 'a loadtestWorker event', SHARD_TASK, 'functions/events/loadtest-worker.json');
}

/** Load-test options and an optional wait; no event at all means every default. */
export function parseLoadTestEvent(event: unknown): Record<string, unknown> {
  if (event === undefined || event === null || event === '') return {};
  return parseEvent(event, 'a loadtest event', eventObject({}), 'functions/events/loadtest.json');
}
