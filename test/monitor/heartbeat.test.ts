import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type HeartbeatCheckDefinition, parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { runCycle } from '../../lib/monitor/cycle.ts';
import { formatSeconds, heartbeatFinding, heartbeatTokenHash } from '../../lib/monitor/heartbeat.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

const TOKEN = 'backup-job-token-5f1c9a';

function heartbeat(extra: Record<string, unknown> = {}): HeartbeatCheckDefinition {
  const [check] = parseMonitorDefinition(
    { checks: [{ name: 'backup', kind: 'heartbeat', period: 300, grace: 60, token: TOKEN, ...extra }] },
    'http://127.0.0.1:1',
    'test',
    false,
    60,
  ).checks;
  if (check?.kind !== 'heartbeat') throw new Error('not a heartbeat');
  return check;
}

describe('heartbeatFinding', () => {
  const registeredAt = new Date('2026-03-01T00:00:00Z');
  const secondsLater = (seconds: number) => new Date(registeredAt.getTime() + seconds * 1000);

  it('passes until the period plus grace has gone by since the last beat, then fails saying for how long', () => {
    const check = heartbeat();
    const record = { lastBeatAt: secondsLater(0), registeredAt };
    expect(heartbeatFinding(check, record, secondsLater(360))).toMatchObject({ ok: true, error: null });
    expect(heartbeatFinding(check, record, secondsLater(361))).toMatchObject({
      ok: false,
      error: 'no beat for 6m01s (period 5m + grace 1m)',
      details: { lastBeatAt: '2026-03-01T00:00:00.000Z', dueBy: '2026-03-01T00:06:00.000Z' },
    });
  });

  it('counts from the registration when no beat ever came', () => {
    const finding = heartbeatFinding(heartbeat(), { lastBeatAt: null, registeredAt }, secondsLater(3700));
    expect(finding.error).toBe('no beat since the heartbeat was registered 1h01m ago (period 5m + grace 1m)');
  });

  it('formats seconds as the alert text gives them', () => {
    expect([45, 60, 450, 3600, 3725].map(formatSeconds)).toEqual(['45s', '1m', '7m30s', '1h00m', '1h02m']);
  });
});

describe('the checks file for heartbeats', () => {
  const problems = (check: Record<string, unknown>) => {
    try {
      heartbeat(check);
      return [];
    } catch (error) {
      return (error as { problems: string[] }).problems;
    }
  };

  it('keeps only the hash of the token, and takes a hash given in the file as it is', () => {
    expect(heartbeat().tokenSha256).toBe(heartbeatTokenHash(TOKEN).toString('hex'));
    const hash = heartbeatTokenHash('another-token-of-the-job').toString('hex').toUpperCase();
    expect(heartbeat({ token: undefined, tokenSha256: hash }).tokenSha256).toBe(hash.toLowerCase());
    expect(JSON.stringify(heartbeat())).not.toContain(TOKEN);
  });

  it('names a missing period, a missing, short or doubled token', () => {
    expect(problems({ period: undefined })).toEqual(['checks[0].period: is required (a whole number)']);
    expect(problems({ token: undefined })).toEqual([
      'checks[0]: needs "token" or "tokenSha256": the secret the job sends with each beat',
    ]);
    expect(problems({ token: 'short' })).toEqual([
      'checks[0].token: must be at least 16 characters (or give "tokenSha256")',
    ]);
    expect(problems({ tokenSha256: 'a'.repeat(64) })).toEqual([
      'checks[0]: give "token" or "tokenSha256", not both',
    ]);
    expect(problems({ url: 'https://example.com' })).toEqual(['checks[0].url: is not a check setting']);
  });
});

describe('heartbeats sent to POST /v1/heartbeats/{name}, checked by monitor cycles', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let api: RunningApi;
  let store: MonitorStore;
  let sink: RecordingSink;
  let clock: Date;
  const definition = () =>
    parseMonitorDefinition(
      {
        checks: [
          {
            name: 'backup',
            kind: 'heartbeat',
            period: 120,
            grace: 30,
            token: TOKEN,
            rules: { reminderMinutes: 0 },
          },
        ],
      },
      'http://127.0.0.1:1',
      'test',
      false,
      60,
    );
  const cycle = async (seconds = 60) => {
    clock = new Date(clock.getTime() + seconds * 1000);
    return runCycle(
      definition(),
      testMonitorDeps(store, sink, () => clock),
    );
  };
  const beat = (name: string, token: string | null) =>
    fetch(`${api.url}/v1/heartbeats/${name}`, {
      method: 'POST',
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });

  beforeAll(async () => {
    store = new MonitorStore(postgres.db);
    api = await startApiServer({ DATABASE_URL: postgres.database.url });
  });
  beforeEach(async () => {
    await postgres.database.admin(
      'TRUNCATE monitor_samples, monitor_check_states, monitor_incidents, alert_outbox, monitor_heartbeats',
    );
    sink = new RecordingSink();
    // The beats are stamped with the API's clock, so the monitor's starts from it and is moved on by hand.
    clock = new Date();
  });
  afterAll(async () => {
    await api?.close();
  });

  it('refuses a beat with a wrong token, without one, or for a heartbeat never registered', async () => {
    await cycle(0);
    for (const response of [
      await beat('backup', 'not-the-token-at-all'),
      await beat('backup', null),
      await beat('restore', TOKEN),
    ]) {
      expect(response.status).toBe(401);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('HEARTBEAT_REFUSED');
      expect(body.error.message).toContain("the heartbeat's token");
    }
    const stored = await postgres.database.admin<{ beats: string; token_hash: Buffer }>(
      'SELECT beats, token_hash FROM monitor_heartbeats',
    );
    expect(stored.rows).toHaveLength(1);
    expect(stored.rows[0]?.beats).toBe('0');
    expect(stored.rows[0]?.token_hash.equals(heartbeatTokenHash(TOKEN))).toBe(true);
  });

  it('alerts once no beat came within period plus grace, and recovers on the next beat', async () => {
    await cycle(0);
    const accepted = await beat('backup', TOKEN);
    expect(accepted.status).toBe(200);
    expect(((await accepted.json()) as { heartbeat: string }).heartbeat).toBe('backup');
    // 60 s and 120 s after the beat: within the period. 180 s: past period 120 s + grace 30 s.
    const early = [await cycle(), await cycle()];
    expect(early.map((result) => result.samples[0]?.ok)).toEqual([true, true]);
    expect(sink.delivered).toEqual([]);
    const late = await cycle();
    expect(late.samples[0]).toMatchObject({ ok: false, status: null, latencyMs: null });
    expect(late.samples[0]?.error).toMatch(/^no beat for 3m(0\ds)? \(period 2m \+ grace 30s\)$/);
    expect(sink.delivered.map((item) => [item.subject, item.severity])).toEqual([
      ['[ALARM] loadwatch/test: backup is down', 'critical'],
    ]);
    expect(sink.delivered[0]?.message).toContain('heartbeat:backup');
    await cycle();
    expect(sink.delivered).toHaveLength(1);
    // The job beats again, on the monitor's clock, which has run ahead of the API's.
    expect(await store.recordBeat('backup', TOKEN, clock)).toBe(true);
    expect(await store.recordBeat('backup', 'not-the-token-at-all', clock)).toBe(false);
    await cycle();
    expect(sink.delivered.map((item) => item.subject)).toEqual([
      '[ALARM] loadwatch/test: backup is down',
      '[OK] loadwatch/test: backup recovered after 2m',
    ]);
  });

  it('alerts for a job that never beats, counting from when the monitor first ran the heartbeat', async () => {
    const results = [await cycle(0), await cycle(), await cycle(), await cycle()];
    expect(results.map((result) => result.samples[0]?.ok)).toEqual([true, true, true, false]);
    expect(results[3]?.samples[0]?.error).toMatch(/^no beat since the heartbeat was registered 3m ago/);
    expect(sink.delivered.map((item) => item.subject)).toEqual(['[ALARM] loadwatch/test: backup is down']);
  });
});
