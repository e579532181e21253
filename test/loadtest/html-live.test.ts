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
});
