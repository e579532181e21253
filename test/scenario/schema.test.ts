import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { parseCsv } from '../../lib/scenario/csv.ts';
import { readScenarioFile } from '../../lib/scenario/file.ts';
import { compileJsonPath, readJsonPath } from '../../lib/scenario/json-path.ts';
import { parseScenario, SCENARIO_CAPS, ScenarioError } from '../../lib/scenario/schema.ts';
import { compileTemplate, renderTemplate } from '../../lib/scenario/template.ts';

const problemsOf = (input: unknown, where: { field?: string; file?: string } = {}): string[] => {
  try {
    parseScenario(input, where);
  } catch (error) {
    if (error instanceof ScenarioError) return error.problems;
    throw error;
  }
  throw new Error('the scenario was accepted');
};

describe('parseScenario', () => {
  it('names every problem of a scenario by its path in the document, all at once', () => {
    expect(
      problemsOf({
        flows: [
          {
            steps: [
              { path: 'orders' },
              { path: '/a', capture: { token: { jsn: '$.t' }, id: {}, both: { json: '$.a', header: 'x' } } },
              { path: '/b', capture: { token: { json: 'data.token' } } },
              { think: 'soon' },
              { loop: { count: 0, steps: [] } },
              {
                method: 'FETCH',
                path: '/{{ $nope }}',
                headers: { 'bad header': 'x' },
                body: 'x',
                json: {},
                checks: [
                  { status: 99 },
                  { json: '$.a', header: 'x' },
                  {},
                  { bodyContains: 'x', exists: true },
                ],
              },
            ],
          },
          { weight: -1, steps: [{ path: '/c', colour: 'red' }] },
        ],
        extra: true,
      }),
    ).toEqual([
      'flows[0].steps[0].path: "orders" must be a path starting with "/"',
      'flows[0].steps[1].capture.token.jsn: is not a key of a capture (json, header or regex)',
      'flows[0].steps[1].capture.id: a capture needs one of json, header, regex',
      'flows[0].steps[1].capture.both: a capture reads one thing; it has json and header',
      'flows[0].steps[2].capture.token.json: "data.token" must start with "$" (e.g. $.data.token)',
      'flows[0].steps[3].think: "soon" is not a duration up to 10m (e.g. 500 or "1s")',
      'flows[0].steps[4].loop.count: must be at least 1',
      'flows[0].steps[4].loop.steps: must hold at least one step',
      'flows[0].steps[5].method: "FETCH" is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
      'flows[0].steps[5].path: {{ $nope }} is not a built-in ($uuid, $timestamp, $vu, $iteration, $randomInt(min,max))',
      'flows[0].steps[5].headers.bad header: "bad header" is not a header name',
      'flows[0].steps[5].checks[0].status: must be an HTTP status from 100 to 599',
      'flows[0].steps[5].checks[1]: a check reads one thing; it has json and header',
      'flows[0].steps[5].checks[2]: a check needs one of status, json, header, bodyContains, latencyUnder',
      'flows[0].steps[5].checks[3]: exists, equals and matches apply to json and header checks only',
      'flows[1].weight: must be at least 0',
      'flows[1].steps[0].colour: is not a key of a request step (name, method, path, headers, query, json, body, capture, checks)',
      'extra: is not a key of a scenario (flows, data)',
    ]);
  });

  it('names the problems that span steps once the steps themselves are valid', () => {
    expect(
      problemsOf({
        flows: [
          {
            steps: [
              {
                name: 'login',
                method: 'POST',
                path: '/login',
                json: { user: '{{ bad name }}' },
                body: undefined,
              },
              { name: 'login', path: '/other' },
            ],
          },
          { weight: 0, steps: [{ think: 10 }] },
        ],
      }),
    ).toEqual([
      'flows[0].steps[0].json.user: {{ bad name }} is not a name (letters, digits, _ and -, not starting with a digit)',
    ]);
    expect(
      problemsOf({
        flows: [
          {
            steps: [
              { name: 'login', method: 'POST', path: '/login' },
              { name: 'login', path: '/other' },
            ],
          },
          { weight: 0, steps: [{ think: 10 }] },
        ],
      }),
    ).toEqual([
      'flows[1].steps: sends no request',
      'flows[0].steps[1].name: "login" already names flows[0].steps[0] (POST /login); a name is one step',
    ]);
    const many = Array.from({ length: SCENARIO_CAPS.steps + 1 }, (_, index) => ({ path: `/p${index}` }));
    expect(problemsOf({ flows: [{ steps: many }] })).toEqual([
      `flows: ${SCENARIO_CAPS.steps + 1} request steps, over the cap of ${SCENARIO_CAPS.steps}`,
    ]);
  });

  it('refuses a data file outside the CLI, and rows over the size cap', () => {
    const flows = [{ steps: [{ path: '/a' }] }];
    expect(problemsOf({ flows, data: { file: 'users.csv' } }, { field: 'scenario' })).toEqual([
      'scenario.data: file is read by the CLI only (loadwatch loadtest scenario.yml); send its rows as data.rows',
    ]);
    const rows = Array.from({ length: 20_000 }, (_, index) => ({ id: `${index}`.padStart(40, '0') }));
    expect(problemsOf({ flows, data: { rows, order: 'shuffled' } })).toEqual([
      'data.order: must be sequential or random',
    ]);
    expect(problemsOf({ flows, data: { rows } })[0]).toMatch(
      /^data: rows take \d+ bytes as JSON, over the cap of 1000000$/,
    );
  });

  it('reaches the load-test input as one optional field, named under "scenario"', () => {
    let problems: string[] = [];
    try {
      parseLoadTestInput({
        target: 'http://127.0.0.1:9',
        scenario: { flows: [{ steps: [{ path: 'x' }] }] },
        endpoint: '/a',
      });
    } catch (error) {
      problems = (error as { problems: string[] }).problems;
    }
    expect(problems.sort()).toEqual([
      'endpoint: give a scenario or the endpoint options, not both',
      'scenario.flows[0].steps[0].path: "x" must be a path starting with "/"',
    ]);
    const options = parseLoadTestInput({
      target: 'http://127.0.0.1:9',
      scenario: { flows: [{ steps: [{ path: '/a' }, { loop: { count: 3, steps: [{ path: '/b' }] } }] }] },
      users: 2,
      requests: 5,
    });
    expect(options.endpoints).toEqual([]);
    expect(options.scenario?.flows[0]?.steps).toHaveLength(2);
  });
});

describe('templates and JSON paths', () => {
  it('fills captures, data columns and built-ins, and says which value is missing', () => {
    const scope = { vu: 3, iteration: 7, value: (name: string) => ({ token: 'abc' })[name] };
    expect(renderTemplate(compileTemplate('Bearer {{token}} vu={{ $vu }} it={{ $iteration }}'), scope)).toBe(
      'Bearer abc vu=3 it=7',
    );
    expect(renderTemplate(compileTemplate('{{ $randomInt(4, 4) }}'), scope)).toBe('4');
    expect(renderTemplate(compileTemplate('{{ $uuid }}'), scope)).toMatch(/^[0-9a-f-]{36}$/);
    expect(() => renderTemplate(compileTemplate('{{ user }}'), scope)).toThrow(
      '{{ user }} has no value (neither captured before this step nor a data column)',
    );
    expect(() => compileTemplate('{{ $randomInt(9,1) }}')).toThrow(
      'the lower bound 9 is over the upper bound 1',
    );
  });

  it('reads the supported JSON path forms and nothing else', () => {
    const value = { data: { items: [{ id: 1 }, { id: 2, 'odd key': true }] } };
    expect(readJsonPath(value, compileJsonPath('$.data.items[0].id'))).toBe(1);
    expect(readJsonPath(value, compileJsonPath("$.data.items[-1]['odd key']"))).toBe(true);
    expect(readJsonPath(value, compileJsonPath('$.data.missing.id'))).toBeUndefined();
    expect(readJsonPath(value, compileJsonPath('$'))).toBe(value);
    expect(() => compileJsonPath('$.data[*]')).toThrow('cannot read "[*]"');
  });
});

describe('scenario files', () => {
  const folder = mkdtempSync(join(tmpdir(), 'loadwatch-scenario-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('reads a YAML scenario and its CSV data file into rows, as the API takes them', () => {
    writeFileSync(join(folder, 'ids.csv'), 'id,name\r\n1,"Lamp, desk"\r\n2,"The ""best"" chair"\r\n');
    writeFileSync(
      join(folder, 'browse.yml'),
      'flows:\n  - steps:\n      - path: /products/{{ id }}\n        checks:\n          - status: 200\ndata:\n  file: ids.csv\n  order: random\n',
    );
    expect(readScenarioFile(join(folder, 'browse.yml'))).toEqual({
      flows: [{ steps: [{ path: '/products/{{ id }}', checks: [{ status: 200 }] }] }],
      data: {
        order: 'random',
        rows: [
          { id: '1', name: 'Lamp, desk' },
          { id: '2', name: 'The "best" chair' },
        ],
      },
    });
  });

  it('names a YAML error by line and column, and a bad CSV line by number', () => {
    writeFileSync(join(folder, 'broken.yml'), 'flows:\n  - steps: [\n');
    expect(() => readScenarioFile(join(folder, 'broken.yml'))).toThrow(
      /^broken\.yml: line \d+, column \d+: /,
    );
    expect(() => parseCsv('id,name\n1\n')).toThrow('line 2: 1 fields, the header has 2');
    writeFileSync(join(folder, 'missing.yml'), 'flows: []\ndata:\n  file: nowhere.csv\n');
    expect(() => readScenarioFile(join(folder, 'missing.yml'))).toThrow(
      `missing.yml: data.file: cannot read "${join(folder, 'nowhere.csv')}": no such file`,
    );
  });
});
