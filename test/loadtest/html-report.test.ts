// The HTML report: offline, escaped, its charts drawn from real shard histograms, and opened in Chromium.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatMs } from '../../lib/http/units.ts';
import type { ShardResult } from '../../lib/loadtest/engine.ts';
import { createHistogram, encodeHistogram, recordMs } from '../../lib/loadtest/histogram.ts';
import { renderHtmlReport } from '../../lib/loadtest/html-report.ts';
import { DEFAULT_LIMITS } from '../../lib/loadtest/limits.ts';
import type { LoadTestOptions } from '../../lib/loadtest/options.ts';
import { planLoadTest } from '../../lib/loadtest/plan.ts';
import { buildReport, type LoadTestReport, type ShardRow } from '../../lib/loadtest/report.ts';
import { downsampleTimeline, MAX_TIMELINE_POINTS } from '../../lib/loadtest/report-charts.ts';
import { formatSummary } from '../../lib/loadtest/text-summary.ts';
import { TimelineWriter } from '../../lib/loadtest/timeline.ts';
import { launchChromium } from '../support/browser.ts';
import { stepOf, withSteps } from '../support/steps.ts';

const SCREENSHOT_PATH = '/tmp/loadwatch-report.png';
const RUN_STARTED_AT = Date.parse('2025-03-14T09:30:00Z');

/** Deterministic pseudo-random numbers, so every run draws the same report. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) % 4_294_967_296;
    return state / 4_294_967_296;
  };
}

interface ShardShape {
  seconds: number;
  requestsPerSecond: number;
  /** Latency of one request, in ms, from the second it completed in and a uniform random number. */
  latencyMs: (second: number, random: number) => number;
  /** Share of requests that fail with a 503, by second. */
  failureShare?: (second: number) => number;
  saturated?: boolean;
  seed?: number;
}

/** A shard's result made of real encoded histograms, as a worker would report it. */
function makeShard(shape: ShardShape): ShardResult {
  const random = seededRandom(shape.seed ?? 1);
  const latency = createHistogram();
  const uncorrected = createHistogram();
  const result: ShardResult = {
    requests: 0,
    ok: 0,
    failed: 0,
    remaining: 0,
    aborted: false,
    statusCodes: {},
    errors: { timeout: 0, refused: 0, reset: 0, dns: 0, other: 0 },
    latency: new Uint8Array(),
    latencyUncorrected: new Uint8Array(),
    timeline: new Uint8Array(),
    startedAt: RUN_STARTED_AT,
    finishedAt: RUN_STARTED_AT + shape.seconds * 1000,
    generator: {
      eventLoopLagP99Ms: shape.saturated ? 212 : 3.4,
      eventLoopLagMaxMs: shape.saturated ? 480 : 9,
      sendLagP99Ms: shape.saturated ? 95 : 0.8,
      cpuPercent: shape.saturated ? 97 : 41,
      saturated: shape.saturated ?? false,
    },
  };
  const timeline = new TimelineWriter();
  for (let second = 0; second < shape.seconds; second++) {
    const perSecond = createHistogram('timeline');
    let errors = 0;
    const failing = Math.round(shape.requestsPerSecond * (shape.failureShare?.(second) ?? 0));
    for (let index = 0; index < shape.requestsPerSecond; index++) {
      const milliseconds = shape.latencyMs(second, random());
      recordMs(latency, milliseconds);
      // Sent late now and then, as an open-model generator behind a slow response would.
      recordMs(uncorrected, Math.max(0.5, milliseconds - (random() < 0.05 ? milliseconds * 0.6 : 0)));
      recordMs(perSecond, milliseconds);
      const failed = index < failing;
      const status = failed ? 503 : 200;
      result.statusCodes[status] = (result.statusCodes[status] ?? 0) + 1;
      if (failed) {
        errors++;
        result.failed++;
      } else {
        result.ok++;
      }
      result.requests++;
    }
    timeline.add(second, shape.requestsPerSecond, errors, perSecond);
    perSecond.destroy();
  }
  result.timeline = timeline.finish();
  result.latency = encodeHistogram(latency);
  result.latencyUncorrected = encodeHistogram(uncorrected);
  latency.destroy();
  uncorrected.destroy();
  return result;
}

function openOptions(overrides: Partial<LoadTestOptions> = {}): LoadTestOptions {
  return {
    model: 'open',
    target: 'https://api.example.com',
    endpoints: [
      { path: '/orders', method: 'GET', headers: {}, weight: 3 },
      { path: '/orders', method: 'POST', headers: {}, body: '{}', weight: 1 },
    ],
    timeoutMs: 10_000,
    workers: 2,
    thresholds: ['p95<300', 'errors<1%', 'rps>=150'],
    toleratedFailurePercent: 0,
    rate: 200,
    durationSeconds: 90,
    stages: [
      { durationSeconds: 30, from: 20, to: 200 },
      { durationSeconds: 60, from: 200, to: 200 },
    ],
    ...overrides,
  } as LoadTestOptions;
}

/** Log-normal-ish latencies around 40 ms with a slow stretch in the middle of the run. */
const typicalLatency = (second: number, random: number) =>
  (second >= 40 && second < 55 ? 160 : 30) * Math.exp(random * random * 2.2);

function reportFrom(options: LoadTestOptions, shards: ShardResult[], aborted = false): LoadTestReport {
  const plan = planLoadTest(options, DEFAULT_LIMITS);
  const rows: ShardRow[] = shards.map((result, shard) => ({ round: 0, shard, attempts: 1, result }));
  return buildReport({
    runId: 'lt_01JQ3F8Z9K',
    options,
    plan,
    shards: rows,
    expectedShards: shards.length,
    aborted,
  });
}

function realisticReport(shape: Partial<ShardShape> = {}): LoadTestReport {
  const shards = [1, 2].map((seed) =>
    makeShard({
      seconds: 90,
      requestsPerSecond: 100,
      latencyMs: typicalLatency,
      failureShare: (second) => (second >= 44 && second < 50 ? 0.2 : 0),
      seed,
      ...shape,
    }),
  );
  return reportFrom(openOptions(), shards);
}

function chart(html: string, id: string): string {
  const match = html.match(new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`));
  if (!match) throw new Error(`no chart ${id}`);
  return match[0];
}

/** Points a line is drawn through: one M or L command each. */
function linePoints(svg: string, series: 'p50' | 'p99'): number {
  const path = svg.match(new RegExp(`<path class="line ${series}" d="([^"]*)"`))?.[1] ?? '';
  return (path.match(/[ML]/g) ?? []).length;
}

function count(text: string, pattern: RegExp): number {
  return (text.match(pattern) ?? []).length;
}

describe('renderHtmlReport', () => {
  const report = realisticReport();
  const html = renderHtmlReport(report);

  it('references nothing outside the file when rendered', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/<script\b/i);
    expect(html).not.toMatch(/<(img|iframe|object|embed)\b/i);
    expect(html).not.toMatch(/@import/i);
    expect(html).not.toMatch(/url\(/i);
    expect(html).not.toMatch(/\s(src|href|xlink:href)=/i);
    // The target's URL may appear as text, never inside a tag.
    const tags = html.match(/<[^>]*>/g) ?? [];
    expect(tags.length).toBeGreaterThan(100);
    expect(tags.filter((tag) => /https?:\/\//i.test(tag))).toEqual([]);
    expect(html).toContain('https://api.example.com</h1>');
  });

  it('draws latency, rate, histogram and by-step charts from the report when the run has data', () => {
    expect(count(html, /<svg\b/g)).toBe(4);
    const latency = chart(html, 'chart-latency');
    expect(linePoints(latency, 'p50')).toBe(report.timeline.length);
    expect(linePoints(latency, 'p99')).toBe(report.timeline.length);
    const rate = chart(html, 'chart-rate');
    expect(count(rate, /<rect class="hover"/g)).toBe(90);
    // The seconds with 503s put red bars in the chart.
    const failedBars = rate.match(/<path class="bars failed" d="([^"]*)"/)?.[1] ?? '';
    expect(count(failedBars, /M/g)).toBe(6);
    const histogram = chart(html, 'chart-histogram');
    const filled = report.histogram.filter(([, requests]) => requests > 0).length;
    expect(count(histogram, /<rect class="bar"/g)).toBe(filled);
    expect(histogram).toContain('class="marker p99"');
  });

  it('summarises totals, percentiles and status codes when the run has data', () => {
    expect(report.totals.requests).toBe(18_000);
    expect(html).toContain('18,000');
    expect(html).toContain('>503</span>');
    for (const [name, key] of [
      ['p50', 'p50'],
      ['p90', 'p90'],
    ] as const) {
      const shown = html.match(new RegExp(`<td>${name}</td><td class="num">([\\d.,]+) ms</td>`));
      expect(Number(shown?.[1]?.replace(',', ''))).toBeCloseTo(report.latencyMs[key], 0);
    }
    // The open model shows both corrected and uncorrected latencies and says why they differ.
    expect(html).toContain('Uncorrected');
    expect(html).toContain('coordinated omission');
  });

  it('shows one latency column without the coordinated omission note when the model is closed', () => {
    const options: LoadTestOptions = {
      ...openOptions(),
      model: 'closed',
      users: 20,
      requestsPerUser: 50,
      thinkTimeMs: 100,
      thresholds: [],
    } as LoadTestOptions;
    const closed = reportFrom(options, [
      makeShard({ seconds: 10, requestsPerSecond: 100, latencyMs: typicalLatency }),
    ]);
    const closedHtml = renderHtmlReport(closed);
    expect(closedHtml).not.toContain('Uncorrected');
    expect(closedHtml).not.toContain('coordinated omission');
    expect(closedHtml).toContain('Requests per user');
    expect(closedHtml).toContain('No thresholds were set: the default applies');
    expect(closed.thresholds).toEqual([{ expr: 'errors<100%', actual: 0, passed: true, default: true }]);
  });

  it('marks each threshold passed or failed with its actual value when thresholds are set', () => {
    const rows = html.match(/<table class="thresholds">[\s\S]*?<\/table>/)?.[0] ?? '';
    const results = Object.fromEntries(
      [
        ...rows.matchAll(
          /<tr><td><code>([^<]+)<\/code><\/td><td class="num">([^<]+)<\/td><td class="num">(.*?)<\/td><\/tr>/g,
        ),
      ].map(([, expression, actual, result]) => [
        expression?.replace('&lt;', '<').replace('&gt;', '>'),
        { actual, result },
      ]),
    );
    // 200 requests per second, over 1% of them failed, and the slow stretch lifts p95 past 300 ms.
    expect(report.thresholds.map((threshold) => threshold.passed)).toEqual([false, false, true]);
    expect(results['p95<300ms']?.result).toContain('✗');
    expect(results['errors<1%']?.actual).toBe(`${report.errorPercent}%`);
    expect(results['errors<1%']?.result).toContain('✗');
    expect(results['rps>=150']?.actual).toBe('200 req/s');
    expect(results['rps>=150']?.result).toContain('✓');
    expect(html).toContain('<span class="badge failed">FAILED</span>');

    const quick = reportFrom(openOptions({ thresholds: ['p95<2000', 'errors<5%'] }), [
      makeShard({ seconds: 5, requestsPerSecond: 50, latencyMs: () => 20 }),
    ]);
    const quickHtml = renderHtmlReport(quick);
    expect(quick.passed).toBe(true);
    expect(count(quickHtml, /✓ pass/g)).toBe(2);
    expect(quickHtml).not.toContain('✗ fail');
    expect(quickHtml).toContain('<span class="badge passed">PASSED</span>');
  });

  it('says ABORTED on the badge and in the title when the run was aborted', () => {
    const aborted = reportFrom(
      openOptions({ thresholds: [] }),
      [makeShard({ seconds: 5, requestsPerSecond: 50, latencyMs: () => 20 })],
      true,
    );
    const abortedHtml = renderHtmlReport(aborted);
    expect(abortedHtml).toContain('<span class="badge aborted">ABORTED</span>');
    expect(abortedHtml).toMatch(/<title>ABORTED · /);
    expect(abortedHtml).toContain('<p class="verdict-reason">it was aborted before it finished</p>');
    expect(abortedHtml).not.toContain('FAILED');
  });

  it('fails a run whose every request failed when no threshold is set, and says why', () => {
    const failing = reportFrom(openOptions({ thresholds: [] }), [
      makeShard({ seconds: 5, requestsPerSecond: 50, latencyMs: () => 20, failureShare: () => 1 }),
    ]);
    expect(failing).toMatchObject({ passed: false, grade: 'F', errorPercent: 100 });
    expect(failing.failedBecause).toEqual([
      'every request failed (errors<100%, the default when no threshold is set)',
    ]);
    const failingHtml = renderHtmlReport(failing);
    expect(failingHtml).toContain('<span class="badge failed">FAILED</span>');
    expect(failingHtml).toContain(
      'every request failed (errors&lt;100%, the default when no threshold is set)',
    );
    expect(formatSummary(failing, 'failed')).toContain(
      ': FAILED, grade F: every request failed (errors<100%, the default when no threshold is set)',
    );
  });

  it('says what a run passed on and what earned the F when it passed with grade F', () => {
    const lenient = reportFrom(openOptions({ thresholds: ['p95<5000'] }), [
      makeShard({ seconds: 5, requestsPerSecond: 50, latencyMs: () => 20, failureShare: () => 0.6 }),
    ]);
    expect(lenient).toMatchObject({ passed: true, grade: 'F', failedBecause: [] });
    const why = 'passed its thresholds (p95<5000ms), but graded F: 60% of requests failed (D needs under 5%)';
    expect(formatSummary(lenient, 'passed')).toContain(`: PASSED, grade F: ${why}`);
    expect(renderHtmlReport(lenient)).toContain(`<p class="verdict-reason">${why.replace('<', '&lt;')}</p>`);
    const defaulted = reportFrom(openOptions({ thresholds: [] }), [
      makeShard({ seconds: 5, requestsPerSecond: 50, latencyMs: () => 20, failureShare: () => 0.6 }),
    ]);
    expect(formatSummary(defaulted, 'passed')).toContain(
      ': PASSED, grade F: passed the default threshold (errors<100%: not every request failed), but graded F',
    );
  });

  it('warns about the load generator only when it was saturated', () => {
    expect(report.generator.saturated).toBe(false);
    expect(html).not.toContain('generator-saturated');
    const saturated = realisticReport({ saturated: true });
    expect(saturated.generator.saturated).toBe(true);
    const saturatedHtml = renderHtmlReport(saturated);
    expect(saturatedHtml).toContain('class="warning generator-saturated"');
    expect(saturatedHtml).toContain('Load generator saturated.');
  });

  it('escapes report strings when the target, endpoints and run id carry markup', () => {
    const malicious: LoadTestReport = {
      ...report,
      runId: 'lt_<b>bold</b>',
      target: 'http://x/"><script>alert(1)</script>',
      endpoints: [
        { path: `/"><img src=x onerror="alert('path')">`, method: '<svg onload=alert(2)>', weight: 1 },
      ],
      statusCodes: { '200': 10, '<i>': 1 },
      thresholds: [{ expr: 'p95<300ms"><script>alert(3)</script>', actual: 12, passed: true }],
    };
    const escaped = renderHtmlReport(malicious);
    expect(escaped).not.toMatch(/<script/i);
    expect(escaped).not.toMatch(/<img/i);
    expect(escaped).not.toContain('<b>');
    expect(escaped).not.toContain('<i>');
    expect(count(escaped, /<svg\b/g)).toBe(4);
    expect(escaped).toContain('http://x/&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(escaped).toContain('onerror=&quot;alert(&#39;path&#39;)&quot;');
  });

  it('draws at most 600 points per chart when the timeline is an hour long', () => {
    // The measured 90 seconds repeated for an hour: merging 3,600 seconds of real histograms takes seconds.
    const hour: LoadTestReport = {
      ...report,
      duration: 3600,
      durationSeconds: 3600,
      timeline: Array.from({ length: 3600 }, (_, second) => {
        const measured = report.timeline[second % report.timeline.length];
        if (!measured) throw new Error('the report has no timeline');
        return { ...measured, second };
      }),
    };
    expect(hour.timeline).toHaveLength(3600);
    const hourHtml = renderHtmlReport(hour);
    const latency = chart(hourHtml, 'chart-latency');
    expect(linePoints(latency, 'p50')).toBe(MAX_TIMELINE_POINTS);
    expect(linePoints(latency, 'p99')).toBe(MAX_TIMELINE_POINTS);
    expect(count(latency, /<circle/g)).toBe(0);
    const rate = chart(hourHtml, 'chart-rate');
    expect(count(rate, /<rect class="hover"/g)).toBe(MAX_TIMELINE_POINTS);
    const okBars = rate.match(/<path class="bars ok" d="([^"]*)"/)?.[1] ?? '';
    expect(count(okBars, /M/g)).toBe(MAX_TIMELINE_POINTS);
    expect(hourHtml).toContain('Each point merges 6 seconds.');
    expect(hourHtml).toContain('>1:00:00</text>');
    expect(hourHtml.length).toBeLessThan(400_000);
  });

  it('sums requests and errors and keeps the worst p99 when it merges seconds', () => {
    const timeline = Array.from({ length: 1200 }, (_, second) => ({
      second,
      requests: 10,
      errors: second === 3 ? 4 : 0,
      p50: second % 2 === 0 ? 10 : 20,
      p99: second === 2 ? 900 : 50,
    }));
    const buckets = downsampleTimeline(timeline);
    expect(buckets).toHaveLength(600);
    expect(buckets[1]).toEqual({ start: 2, seconds: 2, requests: 20, errors: 4, p50: 15, p99: 900 });
    expect(downsampleTimeline(timeline.slice(0, 600))).toHaveLength(600);
  });

  it('renders placeholders instead of charts when no requests were recorded', () => {
    const empty = reportFrom(openOptions(), [], true);
    expect(empty.timeline).toEqual([]);
    const emptyHtml = renderHtmlReport(empty);
    expect(count(emptyHtml, /<svg\b/g)).toBe(4);
    expect(count(emptyHtml, /No requests were recorded/g)).toBe(3);
    expect(emptyHtml).toContain('No latencies were recorded');
    expect(emptyHtml).toContain('not started');
    expect(emptyHtml).toContain('class="warning aborted"');
    expect(emptyHtml).not.toContain('NaN');
    expect(emptyHtml).not.toContain('Infinity');
  });

  it('marks the only point when the timeline has a single second', () => {
    const single = reportFrom(openOptions({ durationSeconds: 1 }), [
      makeShard({ seconds: 1, requestsPerSecond: 30, latencyMs: (_second, random) => 5 + random * 10 }),
    ]);
    const singleHtml = renderHtmlReport(single);
    const latency = chart(singleHtml, 'chart-latency');
    expect(linePoints(latency, 'p50')).toBe(1);
    expect(count(latency, /<circle class="dot p50"/g)).toBe(1);
    expect(singleHtml).toContain('failed (none)');
    expect(singleHtml).not.toContain('NaN');
  });

  it('formats huge values with units when latencies reach minutes', () => {
    const huge: LoadTestReport = {
      ...report,
      totals: { requests: 123_456_789, ok: 123_456_000, failed: 789 },
      latencyMs: { ...report.latencyMs, p99: 185_000, max: 3_600_000 },
      timeline: report.timeline.map((point) => ({
        ...point,
        requests: point.requests * 50_000,
        p99: 240_000,
      })),
    };
    const hugeHtml = renderHtmlReport(huge);
    expect(hugeHtml).toContain('123,456,789');
    expect(hugeHtml).toContain('1 h');
    expect(chart(hugeHtml, 'chart-latency')).toContain('>4 min</text>');
    expect(chart(hugeHtml, 'chart-rate')).toMatch(/>\d+(\.\d+)?M<\/text>/);
    expect(hugeHtml).not.toContain('NaN');
  });

  /** The cells of the table row whose first cell contains `first`, tags removed. */
  function rowOf(markup: string, tableClass: string, first: string): string[] {
    const body = markup.match(new RegExp(`<table class="${tableClass}">[\\s\\S]*?</table>`))?.[0] ?? '';
    const row =
      (body.match(/<tr>[\s\S]*?<\/tr>/g) ?? []).find((candidate) => candidate.includes(first)) ?? '';
    return (row.match(/<td[^>]*>[\s\S]*?<\/td>/g) ?? []).map((cell) => cell.replace(/<[^>]+>/g, '').trim());
  }

  const stepped = withSteps(report, [
    stepOf({
      name: 'login',
      method: 'POST',
      path: '/login',
      requests: 9_000,
      statusCodes: { '200': 9_000 },
      p50: 12,
      rps: 100,
      checks: [{ name: 'has-token', passed: 8_990, failed: 10 }],
    }),
    stepOf({
      path: '/orders',
      requests: 9_000,
      statusCodes: { '200': 8_948, '503': 52 },
      p50: 80,
      rps: 100,
      checks: [{ name: 'lists <orders>', passed: 9_000, failed: 0 }],
    }),
  ]);
  const steppedHtml = renderHtmlReport(stepped);

  it('shows a row per step with its rate, percentiles, errors and failed checks when the report has steps', () => {
    expect(rowOf(steppedHtml, 'steps', 'login')).toEqual([
      'login POST /login',
      '9,000',
      '100',
      '12 ms',
      '24 ms',
      '36 ms',
      '0%',
      '10',
    ]);
    expect(rowOf(steppedHtml, 'steps', '/orders')).toEqual([
      'GET /orders',
      '9,000',
      '100',
      '80 ms',
      '160 ms',
      '240 ms',
      '0.58%',
      '0',
    ]);
    expect(steppedHtml).toContain(
      '<strong>Failures</strong> failed 52 (0.29 %): 503 ×52 on GET /orders · network none',
    );
  });

  it('lists every check with its passes, failures and pass rate, names escaped, when checks ran', () => {
    expect(rowOf(steppedHtml, 'checks', 'has-token')).toEqual([
      'has-token',
      'login',
      '8,990',
      '10',
      '99.89%',
    ]);
    expect(rowOf(steppedHtml, 'checks', 'lists')).toEqual([
      'lists &lt;orders&gt;',
      'GET /orders',
      '9,000',
      '0',
      '100%',
    ]);
    expect(steppedHtml).not.toContain('lists <orders>');
  });

  it('draws p50, p95 and p99 bars for each step on one axis, the slowest step the longest', () => {
    const svg = chart(steppedHtml, 'chart-steps');
    expect(count(svg, /<rect class="step-bar p(50|95|99)"/g)).toBe(6);
    const widths = [...svg.matchAll(/<rect class="step-bar p99"[^>]* width="([\d.]+)"/g)].map((match) =>
      Number(match[1]),
    );
    expect(widths[1]).toBeCloseTo((widths[0] ?? 0) * (240 / 36), 0);
    expect(svg).toContain('<title>GET /orders: p50 80 ms · p95 160 ms · p99 240 ms</title>');
  });

  it('shows the whole run as one step and says no checks ran when the report has no steps', () => {
    const cells = rowOf(html, 'steps', 'all requests');
    expect(cells.slice(0, 2)).toEqual(['all requests', '18,000']);
    expect(cells[4]).toBe(formatMs(report.latencyMs.p95));
    expect(html).toContain('No response checks ran');
    expect(count(chart(html, 'chart-steps'), /<rect class="step-bar/g)).toBe(3);
  });

  it('opens offline in Chromium with four visible charts when written to a file', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'loadwatch-report-'));
    const browser = await launchChromium();
    try {
      const file = join(directory, 'report.html');
      await writeFile(file, steppedHtml);
      const fileUrl = pathToFileURL(file).href;
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const requested: string[] = [];
      const blocked: string[] = [];
      const problems: string[] = [];
      page.on('request', (request) => requested.push(request.url()));
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.route('**/*', (route) => {
        if (route.request().url() === fileUrl) return route.continue();
        blocked.push(route.request().url());
        return route.abort('internetdisconnected');
      });
      await page.goto(fileUrl, { waitUntil: 'load' });

      const boxes = await Promise.all(
        ['#chart-latency', '#chart-rate', '#chart-histogram', '#chart-steps'].map((selector) =>
          page.locator(selector).boundingBox(),
        ),
      );
      for (const [index, box] of boxes.entries()) {
        expect(box?.width).toBeGreaterThan(800);
        // The by-step chart is as tall as its rows: two steps here.
        expect(box?.height).toBeGreaterThan(index === 3 ? 120 : 200);
      }
      expect(await page.locator('.badge').textContent()).toBe('FAILED');
      await page.screenshot({ path: SCREENSHOT_PATH, fullPage: true });
      expect(blocked).toEqual([]);
      expect(requested).toEqual([fileUrl]);
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await browser.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
