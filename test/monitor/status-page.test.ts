import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertSink } from '../../lib/alerts/sink.ts';
import { sparkline } from '../../lib/http/svg-chart.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { type MonitorDefinition, parseMonitorDefinition } from '../../lib/monitor/checks.ts';
import { runCycle } from '../../lib/monitor/cycle.ts';
import { renderStatusPage, type StatusPageInput } from '../../lib/monitor/status-page.ts';
import { MonitorStore } from '../../lib/monitor/store.ts';
import { type RunningApi, startApiServer } from '../support/api-server.ts';
import { launchChromium } from '../support/browser.ts';
import { useMigratedDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';

type CheckRow = StatusPageInput['checks'][number];

function check(name: string, state: 'OK' | 'ALARM', overrides: Partial<CheckRow> = {}): CheckRow {
  return {
    check: name,
    state,
    since: '2026-03-01T11:00:00.000Z',
    ruleStates: {} as CheckRow['ruleStates'],
    lastCheckedAt: '2026-03-01T11:59:00.000Z',
    intervalSeconds: 60,
    stale: false,
    lastSample: {
      at: '2026-03-01T11:59:00.000Z',
      ok: state === 'OK',
      status: state === 'OK' ? 200 : 500,
      latencyMs: 42.4,
      error: state === 'OK' ? null : 'status 500, expected 200',
    },
    latencies: [40, 42, 45, 41, 38],
    ...overrides,
  };
}

function page(overrides: Partial<StatusPageInput> = {}): string {
  return renderStatusPage({
    service: 'loadwatch',
    stage: 'prod',
    generatedAt: new Date('2026-03-01T12:00:00.000Z'),
    checks: [check('api', 'OK'), check('ready', 'OK')],
    incidents: [
      {
        id: 1,
        check: 'api',
        openedAt: '2026-03-01T10:00:00.000Z',
        resolvedAt: '2026-03-01T10:05:00.000Z',
        rules: ['down'],
        severity: 'critical',
        summary: 'failed 3 checks in a row',
        remindersSent: 0,
      },
    ],
    ...overrides,
  });
}

const polylines = (svg: string) =>
  [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((match) => match[1] ?? '');

describe('sparkline', () => {
  it('draws one line through every point when no sample failed', () => {
    const lines = polylines(sparkline([10, 20, 30, 40, 50]));
    expect(lines).toHaveLength(1);
    expect(lines[0]?.split(' ')).toHaveLength(5);
  });

  it('breaks the line at failed samples and keeps later points at their own position', () => {
    // Width 240 over five samples: one every 60 units.
    const lines = polylines(sparkline([10, 20, null, 30, 40]));
    expect(lines).toHaveLength(2);
    expect(lines[0]?.split(' ').map((point) => point.split(',')[0])).toEqual(['0.0', '60.0']);
    expect(lines[1]?.split(' ').map((point) => point.split(',')[0])).toEqual(['180.0', '240.0']);
  });

  it('puts the peak at the top and zero at the bottom', () => {
    const [line] = polylines(sparkline([0, 100], 240, 36));
    expect(line).toBe('0.0,34.0 240.0,2.0');
  });

  it('draws no line and says so when every sample failed', () => {
    const svg = sparkline([null, null, null]);
    expect(polylines(svg)).toEqual([]);
    expect(svg).toContain('aria-label="no samples"');
  });

  it('draws a lone sample between failures as a dot and marks each failure', () => {
    const svg = sparkline([null, 50, null]);
    expect(svg.match(/<circle /g)).toHaveLength(1);
    expect(svg.match(/<line class="fail"/g)).toHaveLength(2);
  });

  it('labels the chart with the sample count and peak', () => {
    expect(sparkline([12, 87.6, null])).toContain('<title>latency, last 3 checks, peak 88 ms</title>');
  });
});

describe('renderStatusPage', () => {
  it('says all checks are operational when none is in alarm', () => {
    const html = page();
    expect(html).toMatch(/<div class="banner" role="status">All checks operational<\/div>/);
    expect(html).not.toContain('in alarm');
  });

  it('counts the checks in alarm in a red banner', () => {
    const html = page({ checks: [check('api', 'ALARM'), check('ready', 'OK'), check('db', 'ALARM')] });
    expect(html).toMatch(/<div class="banner alarm" role="status">2 checks in alarm: [^<]+<\/div>/);
    expect(html.match(/<tr class="alarm">/g)).toHaveLength(2);
    expect(html).toContain('status 500, expected 200');
  });

  it('never says operational while a check is stale, and names the stale ones', () => {
    const html = page({
      checks: [
        check('api', 'OK'),
        check('old', 'OK', { stale: true, lastCheckedAt: '2026-03-01T09:00:00.000Z' }),
      ],
    });
    expect(html).toMatch(
      /<div class="banner stale" role="status">1 check not checked for over 3 intervals: old<\/div>/,
    );
    expect(html).not.toContain('All checks operational');
    expect(html).toMatch(
      /<tr class="ok stale">[\s\S]*?Stale<div class="muted">last seen operational; not checked for over 3 × 60s/,
    );
    expect(html).toContain('checked <time datetime="2026-03-01T09:00:00.000Z">2026-03-01 09:00 UTC</time>');
  });

  it('puts alarms first and stale checks after them in a red banner', () => {
    const html = page({ checks: [check('api', 'ALARM'), check('old', 'OK', { stale: true })] });
    expect(html).toMatch(
      /<div class="banner alarm" role="status">1 check in alarm: api; 1 check not checked for over 3 intervals: old<\/div>/,
    );
  });

  it('shows when each check was last checked', () => {
    expect(page().match(/checked <time datetime="2026-03-01T11:59:00\.000Z">/g)).toHaveLength(2);
  });

  it('says no checks have run yet when there are none', () => {
    const html = page({ checks: [], incidents: [] });
    expect(html).toContain('role="status">No checks have run yet</div>');
    expect(html).toContain('No incidents recorded.');
  });

  it('escapes a hostile check name, error text, summary, service and stage', () => {
    const hostile = '<img src=x onerror="alert(1)">';
    const html = page({
      service: `<script>alert('service')</script>`,
      stage: '"><svg onload=alert(2)>',
      checks: [
        check(hostile, 'ALARM', {
          lastSample: {
            at: '2026-03-01T11:59:00.000Z',
            ok: false,
            status: null,
            latencyMs: null,
            error: '</td></tr></table><script>steal()</script>',
          },
        }),
      ],
      incidents: [
        {
          id: 9,
          check: hostile,
          openedAt: '2026-03-01T11:00:00.000Z',
          resolvedAt: null,
          rules: ['down'],
          severity: '<b>critical</b>',
          summary: "it's <i>down</i> & out",
          remindersSent: 0,
        },
      ],
    });
    expect(html).not.toMatch(/<script|<img|<svg onload|<b>|<i>|<\/table><script/i);
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;');
    expect(html).toContain('&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;steal()&lt;/script&gt;');
    expect(html).toContain('it&#39;s &lt;i&gt;down&lt;/i&gt; &amp; out');
    expect(html).toContain(
      '<title>&lt;script&gt;alert(&#39;service&#39;)&lt;/script&gt; status · &quot;&gt;&lt;svg',
    );
    // The table keeps its shape: one row per check, nothing the error text could close.
    expect(html.match(/<\/table>/g)).toHaveLength(1);
  });

  it('marks an open incident as ongoing and a closed one with its resolution time', () => {
    const html = page({
      incidents: [
        {
          id: 2,
          check: 'ready',
          openedAt: '2026-03-01T11:50:00.000Z',
          resolvedAt: null,
          rules: ['down'],
          severity: 'critical',
          summary: 'down',
          remindersSent: 0,
        },
        {
          id: 1,
          check: 'api',
          openedAt: '2026-03-01T10:00:00.000Z',
          resolvedAt: '2026-03-01T10:05:00.000Z',
          rules: ['down'],
          severity: 'warning',
          summary: 'slow',
          remindersSent: 0,
        },
      ],
    });
    expect(html).toMatch(
      /<strong>ready<\/strong>[^\n]*<span class="firing">ongoing for \d+(h\d\d)?m<\/span>/,
    );
    expect(html).toMatch(
      /<strong>api<\/strong>[^\n]*resolved <time datetime="2026-03-01T10:05:00\.000Z">2026-03-01 10:05 UTC<\/time>/,
    );
  });

  it('references nothing outside the page: no sources, links, imports or scripts', () => {
    const html = page({
      checks: [check('api', 'ALARM'), check('ready', 'OK', { latencies: [null, 3, null] })],
    });
    for (const reference of ['src=', 'href=', 'url(', '@import', '<script', '<link', '<iframe', '<object']) {
      expect(html.toLowerCase()).not.toContain(reference);
    }
  });
});

describe('GET /status in Chromium', () => {
  const postgres = useMigratedDatabase({ poolSize: 2 });
  let api: RunningApi;
  let browser: Browser;
  const targets: FaultTarget[] = [];

  beforeAll(async () => {
    const [api1, payments, search] = await Promise.all([
      startFaultTarget(),
      startFaultTarget(),
      startFaultTarget(),
    ]);
    targets.push(api1, payments, search);
    const rules = { down: { consecutive: 2 }, recoveryCycles: 2, reminderMinutes: 0, errorRate: null };
    const definition: MonitorDefinition = parseMonitorDefinition(
      {
        checks: [
          { name: 'api', url: `${api1.url}/health`, timeout: 1000, rules },
          { name: 'payments', url: `${payments.url}/health`, timeout: 1000, rules },
          { name: 'search', url: `${search.url}/health`, timeout: 1000, rules },
        ],
      },
      api1.url,
      'test',
    );
    const store = new MonitorStore(postgres.db);
    const alerts: AlertSink = { description: 'discard', publish: async () => {} };
    // 25 cycles a minute apart, the last one a minute ago: every check is current, none stale.
    let clock = new Date(Date.now() - 26 * 60_000);
    const cycles = async (count: number) => {
      for (let index = 0; index < count; index++) {
        clock = new Date(clock.getTime() + 60_000);
        await runCycle(definition, {
          store,
          logger: createLogger({ level: 'error' }),
          alerts,
          dimensions: {},
          retentionDays: 14,
          intervalSeconds: 60,
          latestMigration: null,
          serviceLabel: 'loadwatch/staging',
          now: () => clock,
        });
      }
    };
    await cycles(6);
    await payments.set('error');
    await cycles(4);
    await payments.set('healthy');
    await search.set('slow', 25);
    await cycles(6);
    await search.set('healthy');
    await cycles(6);
    await api1.set('error');
    await cycles(3);

    api = await startApiServer({
      DATABASE_URL: postgres.database.url,
      SERVICE_NAME: 'loadwatch',
      STAGE: 'staging',
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await Promise.all(targets.map((target) => target.close()));
  });

  it('renders with no console errors, no other request, and a CSP that allows only inline styles', async () => {
    const pageUrl = `${api.url}/status`;
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    const otherRequests: string[] = [];
    await context.route('**/*', (route) => {
      if (route.request().url() === pageUrl) return route.continue();
      otherRequests.push(route.request().url());
      return route.abort();
    });
    const tab = await context.newPage();
    const problems: string[] = [];
    tab.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    tab.on('pageerror', (error) => problems.push(error.message));
    tab.on('requestfailed', (request) => problems.push(`request failed: ${request.url()}`));

    const response = await tab.goto(pageUrl, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
    const policy = response?.headers()['content-security-policy'] ?? '';
    const directives = Object.fromEntries(
      policy.split(';').map((directive) => {
        const [name = '', ...values] = directive.trim().split(/\s+/);
        return [name, values.join(' ')];
      }),
    );
    expect(directives).toEqual({
      'default-src': "'none'",
      'style-src': "'unsafe-inline'",
      'frame-ancestors': "'none'",
    });

    await expect(tab.title()).resolves.toBe('loadwatch status · staging');
    await expect(tab.locator('.banner').textContent()).resolves.toMatch(/^1 check in alarm: /);
    // The inline stylesheet applied under the policy: the banner is the alarm red.
    const bannerColour = await tab
      .locator('.banner')
      .evaluate((element) => getComputedStyle(element).backgroundColor);
    expect(bannerColour).toBe('rgb(207, 34, 46)');
    const rows = await tab
      .locator('tbody tr')
      .evaluateAll((elements) =>
        elements.map((element) => [element.className, element.querySelector('td')?.textContent?.trim()]),
      );
    expect(rows).toEqual([
      ['alarm', 'api'],
      ['ok', 'payments'],
      ['ok', 'search'],
    ]);
    // 25 samples a minute apart, oldest on the left from the axis at x=40 to x=296: api's last 3 failed, payments'
    // 7th to 10th.
    const lineSpans = await tab.locator('tbody tr').evaluateAll((elements) =>
      elements.map((element) =>
        [...element.querySelectorAll('polyline')].map((line) => {
          const xs = (line.getAttribute('points') ?? '').split(' ').map((point) => point.split(',')[0]);
          return `${xs[0]}-${xs.at(-1)}`;
        }),
      ),
    );
    expect(lineSpans).toEqual([['40.0-264.0'], ['40.0-93.3', '146.7-296.0'], ['40.0-296.0']]);
    const incidents = await tab.locator('li').allInnerTexts();
    expect(incidents).toHaveLength(2);
    expect(incidents[0]).toMatch(/^api · critical · opened .* · ongoing/);
    expect(incidents[1]).toMatch(/^payments · critical · opened .*, resolved /);

    await tab.screenshot({ path: '/tmp/loadwatch-status.png', fullPage: true });
    await tab.emulateMedia({ colorScheme: 'dark' });
    await tab.screenshot({ path: '/tmp/loadwatch-status-dark.png', fullPage: true });
    await context.close();

    expect(problems).toEqual([]);
    expect(otherRequests).toEqual([]);
  });
});
