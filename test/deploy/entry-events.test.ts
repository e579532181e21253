// Every Lambda entry called directly, as `sls invoke local` does: with its sample event, and with a wrong one.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import { InvalidEventError } from '../../lib/lambda/events.ts';
import { parseCoordinatorEvent, parseShardTask } from '../../lib/loadtest/lambda-events.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { projectRoot } from '../../lib/local/stack.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const EVENTS = join(projectRoot(), 'functions', 'events');
const sample = (name: string): unknown => JSON.parse(readFileSync(join(EVENTS, name), 'utf8'));

const context = {
  awsRequestId: 'direct-call',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:loadwatch-dev-api',
  getRemainingTimeInMillis: () => 30_000,
} as Context;

type Handler = (event: unknown, context: Context) => Promise<unknown>;

describe('the Lambda entries', () => {
  let database: TestDatabase;
  let handlers: Record<'api' | 'migrate' | 'loadtest' | 'worker' | 'coordinator', Handler>;

  beforeAll(async () => {
    database = await createTestDatabase('lw_entries');
    await runMigrations({ target: database.target, direction: 'up' });
    // The entries read their configuration once, at their first use.
    process.env.DATABASE_URL = database.url;
    process.env.LOG_LEVEL = 'warn';
    handlers = {
      api: (await import('../../functions/api.ts')).handler as Handler,
      migrate: (await import('../../functions/migrate.ts')).handler as Handler,
      loadtest: (await import('../../functions/loadtest.ts')).handler as Handler,
      worker: (await import('../../functions/loadtest-worker.ts')).handler as Handler,
      coordinator: (await import('../../functions/loadtest-coordinator.ts')).handler as Handler,
    };
  });
  afterAll(async () => {
    // The entries' shared pool, closed before its database is dropped under it.
    const { lambdaDb } = await import('../../functions/adapters/database.ts');
    const { lambdaEnvironment } = await import('../../functions/environment.ts');
    await lambdaDb(lambdaEnvironment()).close();
    delete process.env.DATABASE_URL;
    delete process.env.LOG_LEVEL;
    await database?.drop();
  });

  it('ship a sample event for every function in serverless.yml', () => {
    const functions = [
      ...readFileSync(join(projectRoot(), 'serverless.yml'), 'utf8').matchAll(
        /handler: functions\/([\w-]+)\.handler/g,
      ),
    ].map((match) => match[1]);
    const samples = readdirSync(EVENTS);
    for (const name of functions) {
      expect({ name, sample: samples.some((file) => file.startsWith(`${name}`)) }).toEqual({
        name,
        sample: true,
      });
    }
  });

  it('answer the api samples as API Gateway would', async () => {
    const health = (await handlers.api(sample('api-health.json'), context)) as {
      statusCode: number;
      body: string;
    };
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    const list = (await handlers.api(sample('api-list-loadtests.json'), context)) as { statusCode: number };
    expect(list.statusCode).toBe(200);
  });

  it('answer a missing or malformed api event with 400 naming what is missing, not a crash', async () => {
    const cases: Array<[unknown, string]> = [
      [undefined, 'the event is empty, not a JSON object'],
      ['', 'the event is empty, not a JSON object'],
      [[], 'the event is a list, not a JSON object'],
      [{}, 'requestContext.http.method: is required (a string)'],
      [
        {
          version: '2.0',
          rawPath: '/health',
          requestContext: { requestId: 'x', http: { method: 7, path: '/health' } },
        },
        'requestContext.http.method: must be a string',
      ],
    ];
    for (const [event, problem] of cases) {
      const result = (await handlers.api(event, context)) as { statusCode: number; body: string };
      const body = JSON.parse(result.body) as { error: { code: string; message: string }; requestId: string };
      expect({ event, status: result.statusCode, code: body.error.code }).toEqual({
        event,
        status: 400,
        code: 'INVALID_EVENT',
      });
      expect(body.error.message).toContain('not an API Gateway HTTP API (payload 2.0) event: ');
      expect(body.error.message).toContain(problem);
      expect(body.error.message).toContain('functions/events/api-health.json');
      expect(body.requestId).toBe('direct-call');
    }
  });

  it('run the migrate sample, and refuse a malformed migrate event by name', async () => {
    expect(await handlers.migrate(sample('migrate-status.json'), context)).toMatchObject({
      action: 'status',
      status: { pending: [] },
    });
    await expect(handlers.migrate({ action: 'sideways' }, context)).rejects.toThrow(
      'action: "sideways" is not one of up, down, status',
    );
  });

  it('refuse malformed load-test events by name before touching the database', async () => {
    await expect(handlers.worker({}, context)).rejects.toThrow(
      'not a loadtestWorker event: runId: is required (a string); round: is required (a whole number); shard: is required (a whole number); for an example see functions/events/loadtest-worker.json',
    );
    await expect(handlers.worker(undefined, context)).rejects.toBeInstanceOf(InvalidEventError);
    await expect(handlers.coordinator({}, context)).rejects.toThrow('step: is required (a string)');
    await expect(handlers.coordinator({ step: 'advance', runId: 'x' }, context)).rejects.toThrow(
      'state: is required (an object); state.runId: is required (a string)',
    );
    await expect(handlers.coordinator({ step: 'launch' }, context)).rejects.toThrow(
      'step: "launch" is not one of plan, advance, aggregate, fail',
    );
    await expect(handlers.loadtest(['users', 5], context)).rejects.toThrow(
      'not a loadtest event: the event is a list, not a JSON object',
    );
  });

  it('accept their own load-test samples', () => {
    expect(parseCoordinatorEvent(sample('loadtest-coordinator-plan.json'))).toMatchObject({ step: 'plan' });
    expect(parseShardTask(sample('loadtest-worker.json'))).toMatchObject({ round: 0, shard: 0 });
    const { wait, ...options } = sample('loadtest.json') as Record<string, unknown>;
    expect(wait).toBe(60);
    expect(parseLoadTestInput(options, undefined, 'http://localhost:3000')).toMatchObject({ users: 5 });
  });
});
