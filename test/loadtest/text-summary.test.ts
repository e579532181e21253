import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type LoadTestOptions } from '../../lib/loadtest/options.ts';
import { planLoadTest } from '../../lib/loadtest/plan.ts';
import { buildReport } from '../../lib/loadtest/report.ts';
import { formatSummary } from '../../lib/loadtest/text-summary.ts';
import { HOSTILE_TEXT } from '../support/fault-target.ts';
import { rawControls } from '../support/terminal.ts';

describe('formatSummary', () => {
  it('shows control characters in the target and the paths escaped, never raw', () => {
    const options: LoadTestOptions = {
      model: 'closed',
      target: `http://127.0.0.1:1${HOSTILE_TEXT}`,
      endpoints: [
        { path: `/a${HOSTILE_TEXT}`, method: 'GET', headers: {}, weight: 1 },
        { path: '/b\x85', method: 'GET', headers: {}, weight: 1 },
      ],
      timeoutMs: 1000,
      workers: 1,
      thresholds: [],
      toleratedFailurePercent: 0,
      users: 1,
      requestsPerUser: 1,
      thinkTimeMs: 0,
    };
    const report = buildReport({
      runId: 'lt_hostile',
      options,
      plan: planLoadTest(options, DEFAULT_LIMITS),
      shards: [],
      expectedShards: 1,
      aborted: false,
    });
    const summary = formatSummary(report, 'error');
    expect(rawControls(summary)).toEqual([]);
    expect(summary).toContain('GET /a\\x1b]0;PWNED\\x07\\x1b[31m\\x9b2J\\r\\x1b[1A ×1, GET /b\\x85 ×1');
    expect(summary).toContain('target      http://127.0.0.1:1\\x1b]0;PWNED');
  });
});
