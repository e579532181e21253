import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { MAX_PROBE_BODY_BYTES, probe } from '../../lib/monitor/probe.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';

describe('probe', () => {
  let target: FaultTarget;
  beforeAll(async () => {
    target = await startFaultTarget();
  });
  afterAll(async () => {
    await target?.close();
  });

  const check = (timeout: number, kind = 'http') =>
    parseMonitorDefinition(
      { checks: [{ name: 'trickle', endpoint: '/health', kind, timeout }] },
      target.url,
      'test',
    ).checks[0] as NonNullable<ReturnType<typeof parseMonitorDefinition>['checks'][number]>;

  it('gives up at its timeout when the target trickles its body a byte at a time', async () => {
    // Each byte comes well inside the timeout, so only a deadline for the whole answer can end the probe.
    await target.set('trickle', 100);
    const started = performance.now();
    const sample = await probe(check(500));
    const elapsed = performance.now() - started;
    expect(sample).toMatchObject({ ok: false, status: null, error: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(490);
    expect(elapsed).toBeLessThan(1500);
  }, 5000);

  it('gives up at its timeout for a trickling readiness answer too', async () => {
    await target.set('trickle', 100);
    const started = performance.now();
    const sample = await probe(check(400, 'database'));
    expect(sample).toMatchObject({ ok: false, error: 'timeout' });
    expect(performance.now() - started).toBeLessThan(1500);
  }, 5000);

  it('refuses a readiness answer over the body cap instead of reading all of it', async () => {
    await target.set('large', MAX_PROBE_BODY_BYTES * 4);
    const sample = await probe(check(3000, 'database'));
    expect(sample).toMatchObject({ ok: false, error: `the answer is over ${MAX_PROBE_BODY_BYTES} bytes` });
  }, 5000);

  it('passes an http check whose body is over the cap, reading no more than the cap', async () => {
    await target.set('large', MAX_PROBE_BODY_BYTES * 4);
    const sample = await probe(check(3000));
    expect(sample).toMatchObject({ ok: true, status: 200, error: null });
  }, 5000);

  it('rejects with the reason, and makes no sample, when stopped in flight', async () => {
    await target.set('hang');
    const controller = new AbortController();
    const before = target.requests();
    const probing = probe(check(4000), { signal: controller.signal });
    while (target.requests() === before) await new Promise((resolve) => setTimeout(resolve, 10));
    const started = performance.now();
    controller.abort(new Error('stopping'));
    await expect(probing).rejects.toThrow('stopping');
    expect(performance.now() - started).toBeLessThan(200);
  }, 5000);
});
