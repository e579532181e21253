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

const HEALTH_EVENT = {
  version: '2.0',
  routeKey: '$default',
  rawPath: '/health',
  rawQueryString: '',
  headers: { host: 'localhost' },
  isBase64Encoded: false,
  requestContext: {
    accountId: '123456789012',
    apiId: 'local',
    domainName: 'localhost',
    domainPrefix: 'localhost',
    http: { method: 'GET', path: '/health', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
    requestId: 'invoke-local',
    routeKey: '$default',
    stage: '$default',
    time: '',
    timeEpoch: 0,
  },
};

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

  const invoke = async (functionKey: string, event: unknown) => {
    const { stdout } = await runServerless(
      project,
      ['invoke', 'local', '-f', functionKey, ...LOCAL_PARAMS, '--data', JSON.stringify(event)],
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
    'answers GET /health with 200 when the api is given an API Gateway v2 event',
    async () => {
      const response = (await invoke('api', HEALTH_EVENT)) as { statusCode: number; body: string };
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ status: 'ok', service: 'loadwatch', stage: 'dev' });
    },
    INVOKE_TIMEOUT_MS + 10_000,
  );
});
