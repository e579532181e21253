import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { runCycle } from '../../lib/monitor/cycle.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { launchChromium } from '../support/browser.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';
import { RecordingSink, testMonitorDeps } from '../support/monitor.ts';

describe('status page in Chromium', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let api: RunningApi;
  let target: FaultTarget;
  let browser: Browser;
  const now = new Date();
  const day = (back: number) => new Date(now.getTime() - back * 86_400_000).toISOString().slice(0, 10);

  beforeAll(async () => {
    target = await startFaultTarget();
    await target.set('healthy');
    // 30 days of samples every 10 minutes, with 30 failures in a row 3 days ago (5 hours down).
    await postgres.database.admin(
      `INSERT INTO monitor_samples (check_name, at, ok, status, latency_ms, error, held)
       SELECT 'api', $1::timestamptz - make_interval(mins => 10 * n), NOT (n BETWEEN 420 AND 449), 200, 20 + n % 7,
              CASE WHEN n BETWEEN 420 AND 449 THEN 'status 500, expected 200' END, false
         FROM generate_series(1, 4319) AS n`,
      [now],
    );
    await postgres.database.admin(
      `INSERT INTO monitor_incidents (check_name, opened_at, resolved_at, rules, severity, summary, last_notified_at)
       VALUES ('api', $1::timestamptz - interval '75 hours', $1::timestamptz - interval '70 hours', '{down}',
               'critical', 'down: 3 failed checks in a row', $1::timestamptz - interval '75 hours')`,
      [now],
    );
    const definition = parseMonitorDefinition(
      {
        checks: [{ name: 'api', url: `${target.url}/health`, timeout: 1000, slo: { availability: 99.5 } }],
      },
      target.url,
      'test',
    );
    await runCycle(
      definition,
      testMonitorDeps(new MonitorStore(postgres.db), new RecordingSink(), () => now, {
        retentionDays: 35,
      }),
    );
    api = await startApiServer({ DATABASE_URL: postgres.database.url });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await target?.close();
  });

  it('shows 30 days of uptime bars, uptime figures, the budget left, incident durations and a latency chart with axes', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    await page.goto(`${api.url}/status`);

    const bars = page.locator('svg.bars rect');
    expect(await bars.count()).toBe(30);
    // The day of the outage is red, the days around it green; its tooltip gives the figure.
    const classes = await bars.evaluateAll((rects) =>
      rects.map(
        (rect) => [rect.getAttribute('class') ?? '', rect.querySelector('title')?.textContent ?? ''] as const,
      ),
    );
    const outage = classes.filter(([tone]) => tone === 'down');
    expect(outage.length).toBeGreaterThanOrEqual(1);
    expect(outage.every(([, title]) => title.startsWith(day(3)) || title.startsWith(day(2)))).toBe(true);
    expect(classes.at(-1)?.[0]).toBe('up');
    expect(classes.at(-5)?.[0]).toBe('up');

    const uptime = await page.locator('.uptime').textContent();
    // 30 failed of 1,008 samples in 7 days and of 4,320 in 30, the probe's own sample among them.
    expect(uptime).toBe('24 h 100% · 7 d 97.02% · 30 d 99.30%');
    // 30 of 4,320 samples failed: 0.69 % of 0.5 % allowed.
    const budget = Math.round(100 * (1 - 30 / 4320 / 0.005));
    expect(await page.locator('.slo').textContent()).toBe(
      `SLO 99.5% over 30 d: ${budget}% of the error budget left`,
    );
    expect(await page.locator('.slo.spent').count()).toBe(1);

    expect(await page.locator('li', { hasText: 'down: 3 failed checks in a row' }).textContent()).toContain(
      'lasted 5h00m',
    );

    const chart = page.locator('svg.latency');
    expect(await chart.locator('text.y-zero').textContent()).toBe('0 ms');
    expect(await chart.locator('text.y-max').textContent()).toMatch(/^\d+ ms$/);
    expect(await chart.locator('text.x-end').textContent()).toMatch(/^\d\d:\d\d UTC$/);
    expect(await chart.locator('polyline').count()).toBeGreaterThanOrEqual(1);
    const box = await chart.boundingBox();
    expect(box?.width).toBeGreaterThan(200);

    expect(await page.locator('td', { hasText: 'checked' }).first().textContent()).toMatch(
      /checked \d{4}-\d\d-\d\d/,
    );
    // One self-contained page: nothing fetched besides it, nothing refused by its CSP.
    expect(requests).toEqual([`${api.url}/status`]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
