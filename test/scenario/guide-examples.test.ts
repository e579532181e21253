// The scenario guide's three examples, as written in docs/production/LOAD_TESTING.md, run against the demo shop.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { beforeEach, describe, expect, it } from 'vitest';
import { loadTestInputJsonSchema } from '../../bench/loadtest-input-schema.ts';
import { projectRoot } from '../../lib/local/stack.ts';
import { readScenarioFile } from '../../lib/scenario/file.ts';
import { useShopRuns } from '../support/scenario-runs.ts';

const folder = join(projectRoot(), 'docs', 'production', 'scenarios');
const guide = readFileSync(join(projectRoot(), 'docs', 'production', 'LOAD_TESTING.md'), 'utf8');

describe('the scenario guide', () => {
  const runs = useShopRuns();
  beforeEach(() => runs.shop.reset());

  const run = async (file: string, load: Record<string, unknown>) => {
    const { outcome, record } = await runs.run({ ...load, scenario: readScenarioFile(join(folder, file)) });
    if (!record?.report) throw new Error(`${file}: no report (${outcome.status})`);
    return { outcome, report: record.report };
  };

  it.each(['login.yml', 'browse.yml', 'checkout.yml', 'products.csv'])(
    'shows %s exactly as the example file holds it',
    (file) => {
      expect(guide).toContain(readFileSync(join(folder, file), 'utf8'));
    },
  );

  it('are accepted by the load-test input JSON Schema that editors read', () => {
    const validate = new Ajv({ strict: true, allErrors: true }).compile(loadTestInputJsonSchema());
    for (const file of ['login.yml', 'browse.yml', 'checkout.yml']) {
      const input = { users: 2, requests: 2, scenario: readScenarioFile(join(folder, file)) };
      expect({ file, valid: validate(input), errors: validate.errors ?? null }).toEqual({
        file,
        valid: true,
        errors: null,
      });
    }
    expect(
      validate({ scenario: { flows: [{ steps: [{ think: '1s' }, { loop: { count: 2, steps: [] } }] }] } }),
    ).toBe(false);
  });

  it('logs in and reuses the token on every later request', async () => {
    const { outcome, report } = await run('login.yml', { users: 3, requests: 2 });
    expect(outcome.status).toBe('passed');
    expect(runs.shop.seen.logins).toHaveLength(6);
    expect(runs.shop.seen.orders).toHaveLength(18);
    expect(runs.shop.seen.orders.every((order) => order.status === 200)).toBe(true);
    expect(report.steps.map((step) => [step.name, step.requests, step.ok])).toEqual([
      ['login', 6, 6],
      ['my orders', 18, 18],
    ]);
    expect(report.checks.every((check) => check.failed === 0)).toBe(true);
    expect(report.iterations).toEqual({ started: 6, completed: 6, failed: 0, failedBecause: {} });
  });

  it('browses the catalogue with every id of the CSV used once', async () => {
    const { outcome, report } = await run('browse.yml', { users: 4, requests: 2, workers: 2 });
    expect(outcome.status).toBe('passed');
    expect([...runs.shop.seen.productIds].sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8']);
    expect(report.checks.map((check) => [check.step, check.name, check.passed, check.failed])).toEqual([
      ['catalogue', 'status 200', 8, 0],
      ['catalogue', '$.products[0].id exists', 8, 0],
      ['product', 'status 200', 8, 0],
      ['product', 'right product', 8, 0],
      ['product', 'quick page', 8, 0],
    ]);
  });

  it('checks out with the check that must always hold never failing', async () => {
    const { outcome, report } = await run('checkout.yml', { users: 4, requests: 5 });
    expect(outcome.status).toBe('passed');
    const checkout = report.steps.find((step) => step.name === 'checkout');
    expect(runs.shop.seen.checkouts).toBe(checkout?.requests);
    expect(report.checks.find((check) => check.name === 'order placed')).toEqual({
      step: 'checkout',
      name: 'order placed',
      passed: checkout?.requests,
      failed: 0,
    });
    expect(report.iterations?.started).toBe(20);
    expect(report.iterations?.failed).toBe(0);
  });
});
