// What `sls invoke local` does with the bundles serverless.yml builds: loads them, runs them, and exits.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../lib/db/migration-runner.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { copyProject, projectRoot, runServerless } from './serverless-cli.ts';

const INVOKE_TIMEOUT_MS = 120_000;

/** Existing mode with no endpoints, so that DATABASE_URL picks the database; the test server speaks no TLS. */
const LOCAL_PARAMS = ['--param=createDatabase=false', '--param=dbSsl=disable'];

/** The handler's result, which invoke local prints last, indented, after whatever the handler logged. */
function printedResult(stdout: string): unknown {
  const lines = stdout.trimEnd().split('\n');
  const start = lines.lastIndexOf('{');
  if (start < 0) throw new Error(`no result printed:\n${stdout}`);
  return JSON.parse(lines.slice(start).join('\n'));
}

describe('sls invoke local', () => {
  let work: string;
  let project: string;
  let database: TestDatabase;

  /** With no event and no --path, invoke local hands the function an empty event, as a user's first try does. */
  const invoke = async (functionKey: string, event?: unknown, extra: string[] = []) => {
    const data = event === undefined ? [] : ['--data', JSON.stringify(event)];
    const { stdout } = await runServerless(
      project,
      ['invoke', 'local', '-f', functionKey, ...LOCAL_PARAMS, ...data, ...extra],
      { timeoutMs: INVOKE_TIMEOUT_MS, env: { DATABASE_URL: database.url } },
    );
    return printedResult(stdout);
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'loadwatch-invoke-'));
    // invoke local rebuilds <service>/.esbuild, which the working tree may be using.
    project = join(work, 'project');
    copyProject(project);
    database = await createTestDatabase('lw_invoke');
    await runMigrations({ target: database.target, direction: 'up', count: 1 });
  });

  afterAll(async () => {
    await database?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it(
    'prints the applied and pending migrations of the DATABASE_URL database when migrate is asked for the status',
    async () => {
      const known = readdirSync(join(projectRoot, 'migrations'))
        .filter((file) => file.endsWith('.sql'))
        .map((file) => file.replace(/\.sql$/, ''))
        .sort();
      const [first, ...rest] = known;
      expect(rest.length).toBeGreaterThan(0);
      expect(await invoke('migrate', { action: 'status' })).toEqual({
        action: 'status',
        ran: [],
        status: { applied: [first], current: first, latest: known.at(-1), pending: rest },
      });
    },
    INVOKE_TIMEOUT_MS + 10_000,
  );

  it(
    'answers GET /health with 200 when the api is given the sample API Gateway v2 event',
    async () => {
      const response = (await invoke('api', undefined, ['--path', 'functions/events/api-health.json'])) as {
        statusCode: number;
        body: string;
      };
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ status: 'ok', service: 'loadwatch', stage: 'dev' });
    },
    INVOKE_TIMEOUT_MS + 10_000,
  );

  it(
    'answers 400 naming the missing fields when the api is invoked with no event',
    async () => {
      const response = (await invoke('api')) as { statusCode: number; body: string };
      expect(response.statusCode).toBe(400);
      const body = JSON.parse(response.body) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('INVALID_EVENT');
      expect(body.error.message).toContain(
        'not an API Gateway HTTP API (payload 2.0) event: the event is empty',
      );
      expect(body.error.message).toContain('functions/events/api-health.json');
    },
    INVOKE_TIMEOUT_MS + 10_000,
  );
});
