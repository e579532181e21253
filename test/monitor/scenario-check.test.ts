import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CheckConfigError,
  type CheckDefinition,
  loadMonitorDefinition,
  parseMonitorDefinition,
} from '../../lib/monitor/checks.ts';
import { runCycle } from '../../lib/monitor/cycle.ts';
import { probe } from '../../lib/monitor/probe.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { type AccountApi, startAccountApi } from '../support/account-api.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

/** Log in, keep the token, read the account with it: the flow the checks below run. */
const LOGIN_FLOW = {
  flows: [
    {
      name: 'account',
      steps: [
        {
          name: 'login',
          method: 'POST',
          path: '/login',
          json: { user: 'monitor' },
          capture: { token: { json: '$.token' } },
          checks: [
            { status: 200 },
            { name: 'has-token', json: '$.token', exists: true, abortIteration: true },
          ],
        },
        {
          name: 'account',
          path: '/account',
          headers: { authorization: 'Bearer {{ token }}' },
          checks: [{ status: 200 }, { name: 'plan-is-pro', json: '$.plan', equals: 'pro' }],
        },
      ],
    },
  ],
};

const problemsOf = (run: () => unknown): string[] => {
  try {
    run();
  } catch (error) {
    if (error instanceof CheckConfigError) return error.problems;
    throw error;
  }
  throw new Error('the checks were accepted');
};

describe('scenario checks against an API behind a login on 127.0.0.1', () => {
  let api: AccountApi;
  const scenarioCheck = (extra: Record<string, unknown> = {}): CheckDefinition =>
    parseMonitorDefinition(
      { checks: [{ name: 'account', kind: 'scenario', scenario: LOGIN_FLOW, timeout: 1000, ...extra }] },
      api.url,
      'test',
    ).checks[0] as CheckDefinition;

  beforeAll(async () => {
    api = await startAccountApi();
  });
  beforeEach(() => {
    api.plan = 'pro';
    api.loginWithoutToken = false;
    api.stallAccount = false;
    api.requests = [];
  });
  afterAll(async () => {
    await api?.close();
  });

  it('passes when every step answers, carrying the token from login to the account, each step timed', async () => {
    const sample = await probe(scenarioCheck());
    expect(sample).toMatchObject({ ok: true, error: null, status: 200 });
    expect(api.requests).toEqual(['POST /login', 'GET /account']);
    const details = sample.details as { flow: string; steps: Array<Record<string, unknown>> };
    expect(details.flow).toBe('account');
    expect(details.steps).toEqual([
      { name: 'login', requests: 1, ms: expect.any(Number), status: 200 },
      { name: 'account', requests: 1, ms: expect.any(Number), status: 200 },
    ]);
    const total = details.steps.reduce((sum, step) => sum + (step.ms as number), 0);
    expect(sample.latencyMs).toBeCloseTo(total, 1);
    expect(sample.latencyMs).toBeGreaterThan(0);
  });

  it('fails naming the step and the check whose value changed', async () => {
    api.plan = 'free';
    const sample = await probe(scenarioCheck());
    expect(sample.ok).toBe(false);
    expect(sample.error).toBe('step account: check "plan-is-pro" failed');
    expect(sample.status).toBe(200);
  });

  it('ends the flow at a check that aborts the iteration, and sends none of the later steps', async () => {
    api.loginWithoutToken = true;
    const sample = await probe(scenarioCheck());
    expect(sample.error).toBe('step login: check "has-token" failed');
    expect(api.requests).toEqual(['POST /login']);
    expect((sample.details as { steps: unknown[] }).steps).toHaveLength(1);
  });

  it('names the capture that found nothing when no check stops the flow first', async () => {
    api.loginWithoutToken = true;
    const flow = structuredClone(LOGIN_FLOW);
    const login = flow.flows[0]?.steps[0] as { checks: unknown[] };
    login.checks = [{ status: 200 }];
    const sample = await probe(scenarioCheck({ scenario: flow }));
    expect(sample.error).toBe('step login: capture token ($.token) found nothing');
  });

  it('names a step answered outside its status check, and a 4xx of a step without one', async () => {
    const flow = structuredClone(LOGIN_FLOW);
    const account = flow.flows[0]?.steps[1] as { headers: Record<string, string>; checks: unknown[] };
    account.headers = {};
    expect((await probe(scenarioCheck({ scenario: flow }))).error).toBe(
      'step account: check "status 200" failed; step account: check "plan-is-pro" failed',
    );
    account.checks = [];
    const sample = await probe(scenarioCheck({ scenario: flow }));
    expect(sample).toMatchObject({ ok: false, status: 401, error: 'step account: status 401' });
  });

  it('cuts the flow at its one deadline, naming the step that did not answer', async () => {
    api.stallAccount = true;
    const began = performance.now();
    const sample = await probe(scenarioCheck({ timeout: 400 }));
    expect(performance.now() - began).toBeLessThan(1500);
    expect(sample.ok).toBe(false);
    expect(sample.error).toBe('step account: no response (timeout); the flow did not end within 400 ms');
  });

  it('names the first step alone when the API refuses the connection', async () => {
    const check = parseMonitorDefinition(
      { checks: [{ name: 'account', kind: 'scenario', scenario: LOGIN_FLOW, timeout: 1000 }] },
      'http://127.0.0.1:1',
      'test',
    ).checks[0] as CheckDefinition;
    const sample = await probe(check);
    expect(sample).toMatchObject({ ok: false, status: null, error: 'step login: no response (refused)' });
  });

  it('runs the flow named by "flow" rather than the first', async () => {
    const scenario = {
      flows: [{ name: 'other', steps: [{ path: '/nowhere' }] }, ...LOGIN_FLOW.flows],
    };
    const sample = await probe(scenarioCheck({ scenario, flow: 'account' }));
    expect(sample.ok).toBe(true);
    expect(api.requests).toEqual(['POST /login', 'GET /account']);
  });
});

describe('scenario checks in monitor cycles', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let api: AccountApi;
  let store: MonitorStore;

  beforeAll(async () => {
    api = await startAccountApi();
    store = new MonitorStore(postgres.db);
  });
  afterAll(async () => {
    await api?.close();
  });

  it('opens one incident naming the failed step when a field changes, and resolves it when it is back', async () => {
    const definition = parseMonitorDefinition(
      {
        checks: [
          {
            name: 'account-flow',
            kind: 'scenario',
            scenario: LOGIN_FLOW,
            timeout: 1000,
            rules: { down: { consecutive: 2 }, recoveryCycles: 2, reminderMinutes: 0, errorRate: null },
          },
        ],
      },
      api.url,
      'test',
    );
    const sink = new RecordingSink();
    let clock = new Date('2026-03-01T00:00:00Z');
    const deps = testMonitorDeps(store, sink, () => clock);
    const cycle = async () => {
      clock = new Date(clock.getTime() + 60_000);
      return runCycle(definition, deps);
    };
    await cycle();
    api.plan = 'free';
    for (let index = 0; index < 4; index++) await cycle();
    api.plan = 'pro';
    for (let index = 0; index < 3; index++) await cycle();

    expect(sink.delivered.map((notification) => notification.subject)).toEqual([
      '[ALARM] loadwatch/test: account-flow is down',
      expect.stringMatching(/^\[OK\] loadwatch\/test: account-flow recovered after/),
    ]);
    expect(sink.delivered[0]?.message).toContain('failed: step account: check "plan-is-pro" failed');
    const incidents = await postgres.database.admin(
      "SELECT resolved_at FROM monitor_incidents WHERE check_name = 'account-flow'",
    );
    expect(incidents.rows).toHaveLength(1);
    expect(incidents.rows[0]?.resolved_at).not.toBeNull();
    const stored = await postgres.database.admin(
      "SELECT details FROM monitor_samples WHERE check_name = 'account-flow' ORDER BY at DESC LIMIT 1",
    );
    expect(stored.rows[0]?.details).toMatchObject({
      flow: 'account',
      steps: [
        { name: 'login', requests: 1, status: 200 },
        { name: 'account', requests: 1, status: 200 },
      ],
    });
  });
});

describe('scenario checks in the checks file', () => {
  const dataDir = scratchDataDir('scenario-checks');
  afterAll(() => dataDir.remove());

  const parse = (check: Record<string, unknown>) =>
    parseMonitorDefinition(
      { checks: [{ name: 'flow', kind: 'scenario', ...check }] },
      'http://127.0.0.1:1',
      'checks.json',
    );

  it('names every problem of an inline scenario by its path under the check', () => {
    expect(
      problemsOf(() =>
        parse({ scenario: { flows: [{ steps: [{ path: 'login', checks: [{ stauts: 200 }] }] }] } }),
      ),
    ).toEqual([
      'checks[0].scenario.flows[0].steps[0].path: "login" must be a path starting with "/"',
      'checks[0].scenario.flows[0].steps[0].checks[0].stauts: is not a key of a check (status, json, header, bodyContains, latencyUnder, exists, equals, matches, name, abortIteration)',
    ]);
  });

  it('asks for a scenario or a file, and for only one of them', () => {
    expect(problemsOf(() => parse({}))).toEqual([
      'checks[0]: needs "scenario" (the flows inline) or "file" (a scenario file relative to the checks file)',
    ]);
    expect(problemsOf(() => parse({ scenario: LOGIN_FLOW, file: 'flow.yml' }))).toEqual([
      'checks[0]: give "scenario" or "file", not both',
    ]);
  });

  it('refuses a data feeder, and a flow the scenario does not have', () => {
    expect(problemsOf(() => parse({ scenario: { ...LOGIN_FLOW, data: { rows: [{ user: 'a' }] } } }))).toEqual(
      [
        'checks[0].scenario.data: a scenario check runs one iteration a cycle and takes no data feeder; write the values into its steps',
      ],
    );
    expect(problemsOf(() => parse({ scenario: LOGIN_FLOW, flow: 'checkout' }))).toEqual([
      'checks[0].flow: "checkout" is not a flow of the scenario ("account")',
    ]);
  });

  it('reads a YAML scenario file relative to the checks file, and names a missing one or its problems', () => {
    const directory = join(dataDir.path, 'ops');
    mkdirSync(join(directory, 'flows'), { recursive: true });
    writeFileSync(
      join(directory, 'flows', 'account.yml'),
      'flows:\n  - name: account\n    steps:\n      - name: login\n        method: POST\n        path: /login\n',
    );
    writeFileSync(join(directory, 'flows', 'broken.yml'), 'flows:\n  - steps:\n      - path: login\n');
    const checksFile = join(directory, 'checks.json');
    const write = (file: string) =>
      writeFileSync(checksFile, JSON.stringify({ checks: [{ name: 'flow', kind: 'scenario', file }] }));

    write('flows/account.yml');
    const check = loadMonitorDefinition(checksFile, 'http://127.0.0.1:1').checks[0];
    expect(check).toMatchObject({ kind: 'scenario', flow: 'account', url: 'http://127.0.0.1:1' });
    expect(check?.kind === 'scenario' && check.scenario.steps.map((step) => step.name)).toEqual(['login']);

    write('flows/missing.yml');
    expect(problemsOf(() => loadMonitorDefinition(checksFile, 'http://127.0.0.1:1'))).toEqual([
      `checks[0].file: missing.yml: cannot read "${join(directory, 'flows', 'missing.yml')}": no such file`,
    ]);
    write('flows/broken.yml');
    expect(problemsOf(() => loadMonitorDefinition(checksFile, 'http://127.0.0.1:1'))).toEqual([
      'checks[0].file: flows[0].steps[0].path: "login" must be a path starting with "/"',
    ]);
  });
});
