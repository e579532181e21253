import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { choiceParameter, parseQuery, timeParameter, wholeNumberParameter } from '../../lib/http/query.ts';

const QUERY = v.object({
  limit: wholeNumberParameter({ fallback: 20, min: 1, max: 100 }),
  before: timeParameter(),
  view: choiceParameter(['summary', 'report'], 'report'),
});

const read = (query: Record<string, string>) => parseQuery({ query }, QUERY);

describe('parseQuery', () => {
  it('gives the fallbacks when parameters are absent or empty', () => {
    expect(read({})).toEqual({ limit: 20, view: 'report' });
    expect(read({ limit: '', before: '', view: '' })).toEqual({ limit: 20, view: 'report' });
  });

  it('reads whole numbers, times and choices', () => {
    expect(read({ limit: '5', before: '2024-05-01 12:00:00 02:00', view: 'summary' })).toEqual({
      limit: 5,
      before: new Date('2024-05-01T10:00:00Z'),
      view: 'summary',
    });
  });

  it('answers 400 naming each bad parameter with what is wrong', () => {
    expect(() => read({ limit: '1.5' })).toThrow('limit: "1.5" is not a whole number');
    expect(() => read({ limit: '0' })).toThrow('limit: 0 is out of range (1 to 100)');
    expect(() => read({ before: '2024-02-30' })).toThrow(
      'before: "2024-02-30" is not an ISO 8601 time (e.g. 2024-05-01T12:00:00Z)',
    );
    expect(() => read({ view: 'all', limit: 'x' })).toThrow(
      'limit: "x" is not a whole number; view: "all" is not one of summary, report',
    );
    expect(() => read({ limit: '-1' })).toThrow(
      expect.objectContaining({ status: 400, code: 'BAD_REQUEST' }),
    );
  });
});
