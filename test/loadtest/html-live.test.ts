import { describe, expect, it } from 'vitest';
import { renderLivePage } from '../../lib/loadtest/html-live.ts';
import { mergeSnapshots } from '../../lib/loadtest/live.ts';
import type { RunRecord } from '../../lib/loadtest/store.ts';

const run = {
  id: '5560f226-0000-4000-8000-000000000000',
  status: 'running',
  target: 'http://127.0.0.1:9/<script>',
  abortRequested: false,
  live: null,
} as unknown as RunRecord;

describe('renderLivePage', () => {
  it('says there are no figures yet before any shard wrote, and still reloads itself', () => {
    const html = renderLivePage(run);
    expect(html).toContain('No figures yet: no shard has written a snapshot.');
    expect(html).toContain('<meta http-equiv="refresh" content="5">');
    expect(html).toContain('http://127.0.0.1:9/&lt;script&gt;');
    expect(html).not.toContain('<script>');
  });

  it('shows the figures so far and the steps, escaped, and says when a stop was asked for', () => {
    const live = mergeSnapshots([], { endpoints: [{ method: 'GET', path: '/a"<b>' }] });
    const html = renderLivePage({ ...run, abortRequested: true, live });
    expect(html).toContain('<code>GET /a&quot;&lt;b&gt;</code>');
    expect(html).toContain('(stopping: an abort was asked for)');
    expect(html).toContain('requests so far');
    expect(html).not.toContain('No figures yet');
  });

  it("shows each step's figures so far and over the last seconds, with its checks' pass rates", () => {
    const base = mergeSnapshots([], { endpoints: [] });
    const [first] = mergeSnapshots([], { endpoints: [{ method: 'GET', path: '/' }] }).steps;
    if (!first) throw new Error('no step');
    const live = {
      ...base,
      steps: [
        { ...first, name: 'login', checks: [] },
        {
          ...first,
          name: 'list',
          window: {
            requests: 60,
            errors: 3,
            errorPercent: 5,
            rps: 6,
            latencyMs: { p50: 4, p95: 41, p99: 97 },
          },
          checks: [
            { name: 'status 200', passed: 12, failed: 0 },
            { name: 'has <items>', passed: 8, failed: 4 },
          ],
        },
      ],
    };
    const html = renderLivePage({ ...run, live });
    expect(html).toContain('<th colspan="5">last 0 s</th>');
    expect(html).toContain('<td>6 req/s</td><td>5%</td><td>4</td><td>41</td><td>97</td>');
    expect(html).toContain('<td>status 200 100% · has &lt;items&gt; 66.67%</td>');
    expect(html).toContain('<td><code>login</code></td>');
  });
});
