import { describe, expect, it } from 'vitest';
import { evaluateAssertions, type ProbedResponse, parseJsonPath } from '../../lib/monitor/assertions.ts';
import type { Assertion } from '../../lib/monitor/check-schema.ts';
import { parseMonitorDefinition } from '../../lib/monitor/checks.ts';

/** The assertions as the checks file's schema reads them. */
function assertionsOf(assert: unknown[]): Assertion[] {
  const [check] = parseMonitorDefinition(
    { checks: [{ name: 'a', endpoint: '/', assert }] },
    'http://127.0.0.1:1',
    'test',
  ).checks;
  if (check?.kind !== 'http') throw new Error('not an http check');
  return check.assert;
}

const response = (overrides: Partial<ProbedResponse> = {}): ProbedResponse => ({
  status: 200,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-release': 'v2' },
  body: JSON.stringify({ status: 'ok', items: [{ id: 7, tags: ['a'] }], 'odd key': null }),
  latencyMs: 120,
  ...overrides,
});

describe('parseJsonPath', () => {
  it('reads dots, indexes and quoted keys, with or without the leading $', () => {
    expect(parseJsonPath('$.items[0].id')).toEqual(['items', 0, 'id']);
    expect(parseJsonPath('items[0].id')).toEqual(['items', 0, 'id']);
    expect(parseJsonPath('$["odd key"]')).toEqual(['odd key']);
    expect(parseJsonPath('$')).toEqual([]);
  });

  it('refuses what is no path', () => {
    for (const path of ['', 'a..b', '$.', 'a[x]', '$[0', '.a']) expect(parseJsonPath(path)).toBeNull();
  });
});

describe('evaluateAssertions', () => {
  it('passes every kind of assertion when the response meets it', () => {
    const assertions = assertionsOf([
      { status: [200, 204] },
      { json: '$.status', equals: 'ok' },
      { json: '$.items[0]', equals: { id: 7, tags: ['a'] } },
      { json: '$.items[0].id', matches: '^\\d+$' },
      { json: '$["odd key"]' },
      { json: '$.error', exists: false },
      { header: 'Content-Type', matches: '^application/json' },
      { header: 'x-release', equals: 'v2' },
      { bodyContains: '"status":"ok"' },
      { bodyNotContains: 'exception' },
      { latencyBelow: 200 },
    ]);
    expect(evaluateAssertions(assertions, response())).toEqual([]);
  });

  it('names each failed assertion by its index, what it read and what it expected', () => {
    const assertions = assertionsOf([
      { status: 200 },
      { json: '$.status', equals: 'ok' },
      { json: '$.items[3].id' },
      { json: '$.items', exists: false },
      { header: 'x-release', matches: '^v3' },
      { header: 'x-missing' },
      { bodyContains: 'ready' },
      { bodyNotContains: 'degraded' },
      { latencyBelow: 100 },
    ]);
    const failures = evaluateAssertions(
      assertions,
      response({ status: 503, body: JSON.stringify({ status: 'degraded', items: [] }) }),
    );
    expect(failures).toEqual([
      'assert[0] status: 503, expected 200',
      'assert[1] json $.status: is "degraded", expected "ok"',
      'assert[2] json $.items[3].id: is missing',
      'assert[3] json $.items: exists ([]), expected none',
      'assert[4] header x-release: is "v2", expected to match /^v3/',
      'assert[5] header x-missing: is missing',
      'assert[6] bodyContains: the body does not contain "ready"',
      'assert[7] bodyNotContains: the body contains "degraded"',
      'assert[8] latencyBelow: 120 ms, budget 100 ms',
    ]);
  });

  it('says the body is not JSON rather than that the field is missing', () => {
    const assertions = assertionsOf([{ json: '$.status', equals: 'ok' }]);
    expect(evaluateAssertions(assertions, response({ body: '<html>' }))).toEqual([
      'assert[0] json $.status: the body is not JSON',
    ]);
  });
});

describe('the checks file for assertions', () => {
  const problems = (checks: unknown[]) => {
    try {
      parseMonitorDefinition({ checks }, 'http://127.0.0.1:1', 'test');
      return [];
    } catch (error) {
      return (error as { problems: string[] }).problems;
    }
  };

  it('names each bad assertion by its path', () => {
    expect(
      problems([
        { name: 'ok', endpoint: '/' },
        { name: 'a', endpoint: '/', assert: [{ json: '$.x' }, { json: 'a..b' }] },
        {
          name: 'b',
          endpoint: '/',
          assert: [
            {},
            { json: '$.x', equals: 1, exists: true },
            { bodyContains: 'x', matches: 'y' },
            { header: 'x y' },
            { json: '$.x', matches: '(' },
            { jsonpath: '$' },
          ],
        },
      ]),
    ).toEqual([
      'checks[1].assert[1].json: "a..b" is not a JSON path like $.data.items[0].id',
      'checks[2].assert[0]: needs one of "status", "json", "header", "bodyContains", "bodyNotContains", "latencyBelow"',
      'checks[2].assert[1]: give one of "equals", "matches", "exists", not several',
      'checks[2].assert[2]: "equals", "matches" and "exists" go with "json" or "header"',
      'checks[2].assert[3].header: "x y" is not a header name',
      'checks[2].assert[4].matches: "(" is not a regular expression',
      'checks[2].assert[5].jsonpath: is not an assertion setting',
    ]);
  });

  it('takes a status assertion instead of expectStatus, and refuses both', () => {
    const [check] = parseMonitorDefinition(
      { checks: [{ name: 'a', endpoint: '/', assert: [{ status: [200, 301] }] }] },
      'http://127.0.0.1:1',
      'test',
    ).checks;
    expect(check).toMatchObject({ expectStatus: [] });
    expect(problems([{ name: 'a', endpoint: '/', expectStatus: 200, assert: [{ status: 201 }] }])).toEqual([
      'checks[0].expectStatus: give "expectStatus" or a status assertion, not both',
    ]);
  });
});
