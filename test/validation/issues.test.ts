import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { issueLines } from '../../lib/validation/issues.ts';

const kind = (article: string) => (issue: v.BaseIssue<unknown>) =>
  issue.input === undefined ? `is required (${article})` : `must be ${article}`;

const PLAN = v.object(
  {
    name: v.string(kind('a string')),
    endpoints: v.array(v.object({ path: v.string(kind('a string')) }, kind('an object')), kind('a list')),
    state: v.object(
      { runId: v.string(kind('a string')), round: v.number(kind('a number')) },
      kind('an object'),
    ),
  },
  'the input is not a JSON object',
);

const lines = (input: unknown) => {
  const result = v.safeParse(PLAN, input);
  return result.success ? [] : issueLines(result.issues, PLAN);
};

describe('issueLines', () => {
  it('names list items by index and object fields by dot', () => {
    expect(
      lines({ name: 'x', endpoints: [{ path: '/' }, { path: 7 }], state: { runId: 'r', round: 1 } }),
    ).toEqual(['endpoints[1].path: must be a string']);
  });

  it('describes a missing field by its own schema, and names every field a missing object needs', () => {
    expect(lines({ endpoints: [] })).toEqual([
      'name: is required (a string)',
      'state: is required (an object)',
      'state.runId: is required (a string)',
      'state.round: is required (a number)',
    ]);
  });

  it('gives the message alone when the input as a whole is wrong', () => {
    expect(lines('plan')).toEqual(['the input is not a JSON object']);
  });

  it('keeps the schema message when no schema is given to look fields up in', () => {
    const result = v.safeParse(PLAN, { name: 3, endpoints: [], state: { runId: 'r', round: 1 } });
    expect(result.success ? [] : issueLines(result.issues)).toEqual(['name: must be a string']);
  });

  it('describes a missing field by its own schema through a variant, in the option that names it', () => {
    const SHAPE = v.variant('kind', [
      v.object({ kind: v.literal('circle'), radius: v.number(kind('a number')) }),
      v.object({ kind: v.literal('square'), side: v.number(kind('a number')) }),
    ]);
    const LIST = v.object({ shapes: v.array(SHAPE) });
    const result = v.safeParse(LIST, { shapes: [{ kind: 'circle', radius: 1 }, { kind: 'square' }] });
    expect(result.success ? [] : issueLines(result.issues, LIST)).toEqual([
      'shapes[1].side: is required (a number)',
    ]);
  });
});
