import { describe, expect, it } from 'vitest';
import {
  eventInteger,
  eventList,
  eventObject,
  eventProblems,
  eventString,
  parseEvent,
} from '../../lib/lambda/events.ts';

const EVENT = eventObject({
  rawPath: eventString(),
  requestContext: eventObject({ http: eventObject({ method: eventString() }) }),
  shards: eventList(),
  round: eventInteger(),
});

describe('eventProblems', () => {
  it('names a missing object and each field it needs, in the order the schema lists them', () => {
    expect(eventProblems({ shards: [], round: 0 }, EVENT)).toEqual([
      'rawPath: is required (a string)',
      'requestContext: is required (an object)',
      'requestContext.http: is required (an object)',
      'requestContext.http.method: is required (a string)',
    ]);
  });

  it('says what a field must hold when it holds something else', () => {
    expect(
      eventProblems(
        { rawPath: 1, requestContext: { http: { method: 'GET' } }, shards: {}, round: 1.5 },
        EVENT,
      ),
    ).toEqual(['rawPath: must be a string', 'shards: must be a list', 'round: must be a whole number']);
  });

  it('refuses anything but a JSON object as the event', () => {
    expect(eventProblems(undefined, EVENT)).toEqual(['the event is empty, not a JSON object']);
    expect(eventProblems([], EVENT)).toEqual(['the event is a list, not a JSON object']);
    expect(eventProblems(5, EVENT)).toEqual(['the event is a number, not a JSON object']);
  });

  it('returns the event with the fields no schema names when it has the shape', () => {
    const event = {
      rawPath: '/',
      requestContext: { http: { method: 'GET' }, stage: 'x' },
      shards: [],
      round: 2,
    };
    expect(parseEvent(event, 'an event', EVENT, 'example.json')).toEqual(event);
    expect(() => parseEvent({}, 'an event', EVENT, 'example.json')).toThrow(
      /^not an event: rawPath: is required \(a string\); .*; for an example see example\.json$/,
    );
  });
});
