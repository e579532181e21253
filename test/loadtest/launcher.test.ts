import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadTestInputError } from '../../lib/loadtest/input-error.ts';
import { launchLoadTest, runSummary, waitBudgetMs, waitForRun } from '../../lib/loadtest/launcher.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import { createLocalStarter } from '../../lib/loadtest/local-runner.ts';
import { LoadTestStore } from '../../lib/loadtest/store.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

describe('waitBudgetMs', () => {
  it('waits 100 s by default, what was asked otherwise, never past the function timeout', () => {
    expect(waitBudgetMs(undefined, 900_000)).toBe(100_000);
    expect(waitBudgetMs(0, 900_000)).toBe(0);
    expect(waitBudgetMs(600, 900_000)).toBe(600_000);
    expect(waitBudgetMs(2000, 900_000)).toBe(895_000);
    expect(waitBudgetMs('soon', 60_000)).toBe(55_000);
    expect(waitBudgetMs(-5, 900_000)).toBe(100_000);
  });
});

describe('launchLoadTest', () => {
  const postgres = useMigratedDatabase({ poolSize: 4 });
  let store: LoadTestStore;
  let server: Server;
  let target: string;

  beforeAll(async () => {
    store = new LoadTestStore(postgres.db);
    server = createServer((_request, response) => response.end('ok'));
    target = await listenLocally(server);
  });
  afterAll(() => {
    server?.close();
  });

  it('starts the execution, records its ARN and waits for the report', async () => {
    const starter = createLocalStarter({ store, logger: createLogger({ level: 'error' }) });
    const run = await launchLoadTest(
      { target, users: 3, requests: 3 },
      { store, limits: DEFAULT_LIMITS, starter },
    );
    expect(run.executionArn).toBe(`local:execution:${run.runId}`);
    const record = await waitForRun(store, run.runId, 10_000);
    expect(record.status).toBe('passed');
    expect(runSummary(record, `/v1/loadtests/${run.runId}`)).toMatchObject({
      runId: run.runId,
      status: 'passed',
      passed: true,
      totals: { requests: 9, ok: 9, failed: 0 },
      report: `/v1/loadtests/${run.runId}`,
    });
  });

  it('answers with the run id and where to look when the wait is over first', async () => {
    const idle = {
      start: async (runId: string) => `arn:aws:states:us-east-1:000000000000:execution:lt:${runId}`,
    };
    const run = await launchLoadTest(
      { target, users: 1, requests: 1 },
      { store, limits: DEFAULT_LIMITS, starter: idle },
    );
    const record = await waitForRun(store, run.runId, 0);
    expect(runSummary(record, `/v1/loadtests/${run.runId}`)).toMatchObject({
      status: 'pending',
      message: `still running; fetch the report with GET /v1/loadtests/${run.runId}`,
    });
    expect(record.executionArn).toContain(run.runId);
  });

  it('ends the run as an error when the execution cannot start, and refuses bad input before recording anything', async () => {
    const broken = { start: async () => Promise.reject(new Error('AccessDenied: states:StartExecution')) };
    await expect(
      launchLoadTest({ target, users: 1, requests: 1 }, { store, limits: DEFAULT_LIMITS, starter: broken }),
    ).rejects.toThrow('AccessDenied');
    const [latest] = await store.listRuns(1);
    expect(latest?.status).toBe('error');
    expect((await store.getRun(latest?.id ?? ''))?.error).toBe(
      'could not start the state machine: AccessDenied: states:StartExecution',
    );
    const before = (await store.listRuns(100)).length;
    await expect(
      launchLoadTest({ target, users: 0 }, { store, limits: DEFAULT_LIMITS, starter: broken }),
    ).rejects.toBeInstanceOf(LoadTestInputError);
    expect((await store.listRuns(100)).length).toBe(before);
  });
});
