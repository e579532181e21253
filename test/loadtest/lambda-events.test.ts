import { describe, expect, it } from 'vitest';
import {
  parseCoordinatorEvent,
  parseLoadTestEvent,
  parseShardTask,
} from '../../lib/loadtest/lambda-events.ts';

const EXAMPLE = '; for an example see functions/events/loadtest-coordinator-plan.json';

describe('load-test Lambda events', () => {
  it('names every field of a round state the coordinator step needs when the state is missing', () => {
    expect(() => parseCoordinatorEvent({ step: 'advance', runId: 'x' })).toThrow(
      `not a loadtestCoordinator event: state: is required (an object); state.runId: is required (a string); state.round: is required (a whole number); state.shards: is required (a list)${EXAMPLE}`,
    );
  });

  it('names an unknown step and lists the known ones', () => {
    expect(() => parseCoordinatorEvent({ step: 'launch' })).toThrow(
      'step: "launch" is not one of plan, advance, aggregate, fail, shardFailed',
    );
    expect(() => parseCoordinatorEvent({ step: 7 })).toThrow('step: must be a string');
  });

  it('passes a step through whole, fields the schema does not name included', () => {
    const event = { step: 'plan', runId: 'r', error: { Error: 'x' } };
    expect(parseCoordinatorEvent(event)).toEqual(event);
  });

  it('checks a shard task and reads an absent load-test event as every default', () => {
    expect(() => parseShardTask({ runId: 'r', round: '1', shard: 0 })).toThrow(
      'round: must be a whole number',
    );
    expect(parseShardTask({ runId: 'r', round: 1, shard: 0, startsAt: 5 })).toMatchObject({ startsAt: 5 });
    expect(parseLoadTestEvent(undefined)).toEqual({});
    expect(parseLoadTestEvent({ users: 5 })).toEqual({ users: 5 });
  });
});
