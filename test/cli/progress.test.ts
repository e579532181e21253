import { describe, expect, it } from 'vitest';
import { createProgressBar, describeLive } from '../../lib/cli/progress.ts';
import { createHistogram, encodeHistogram, recordMs } from '../../lib/loadtest/histogram.ts';
import { mergeSnapshots } from '../../lib/loadtest/live.ts';
import { scenario, stepsOf } from '../support/step-snapshots.ts';

/** A terminal that keeps what was written to it. */
function terminal() {
  const written: string[] = [];
  const stream = {
    isTTY: true,
    write: (text: string) => written.push(text) > 0,
  } as unknown as NodeJS.WriteStream;
  return { stream, last: () => written.at(-1) ?? '' };
}

function encoded(kind: 'precise' | 'timeline', values: number[]) {
  const histogram = createHistogram(kind);
  for (const value of values) recordMs(histogram, value);
  const bytes = encodeHistogram(histogram);
  histogram.destroy();
  return bytes;
}

describe('createProgressBar', () => {
  it('draws the live figures the shards wrote: rate, errors and percentiles of the last seconds', () => {
    const { stream, last } = terminal();
    const bar = createProgressBar(stream, 1000);
    bar.update(10, 0);
    expect(last()).toMatch(/10\/1,000 requests {2}\d+ req\/s {2}errors 0/);
    const live = mergeSnapshots(
      [
        {
          requests: 400,
          ok: 396,
          failed: 4,
          statusCodes: { '200': 396, '500': 4 },
          errors: { timeout: 0, refused: 0, reset: 0, dns: 0, other: 0 },
          latency: encoded('precise', [5, 10, 40]),
          recent: [1, 2, 3, 4].map((second) => ({
            second,
            requests: 100,
            errors: 1,
            latency: encoded('timeline', [5, 10, 40]),
          })),
          windowEnd: 5,
          runStartedAt: 0,
          takenAt: 5200,
          finished: false,
        },
      ],
      { endpoints: [{ method: 'GET', path: '/' }] },
    );
    bar.live(live);
    expect(last()).toMatch(
      // A timeline second holds 1 significant digit: its percentiles read up to 6.25 % high.
      /^\r[█░]{30} 400\/1,000 requests {2}80 req\/s {2}errors 4 \(1%\) {2}p50 10(\.\d)? · p95 4[0-2](\.\d)? · p99 4[0-2](\.\d)? ms \(last 5 s\) {2}[\d.]+s/,
    );
    expect(last().endsWith('\u001b[K')).toBe(true);
    // The in-process count never draws the bar behind what the shards already wrote.
    bar.update(300, 2);
    expect(last()).toContain(' 400/1,000 requests');
  });

  it('draws nothing when the stream is no terminal', () => {
    const written: string[] = [];
    const stream = {
      isTTY: false,
      write: (text: string) => written.push(text) > 0,
    } as unknown as NodeJS.WriteStream;
    const bar = createProgressBar(stream, 10);
    bar.update(5, 0);
    bar.finish();
    expect(written).toEqual([]);
  });

  it('names the slowest step over the last seconds and the check passing least, when the run has several', () => {
    const live = mergeSnapshots(
      [
        {
          requests: 240,
          ok: 240,
          failed: 0,
          statusCodes: { '200': 240 },
          errors: { timeout: 0, refused: 0, reset: 0, dns: 0, other: 0 },
          latency: encoded('precise', [5]),
          recent: [],
          windowEnd: 12,
          runStartedAt: 0,
          takenAt: 12_000,
          finished: false,
          ...stepsOf(620, 5, 2),
        },
      ],
      { endpoints: [], scenario },
    );
    // A timeline second holds 1 significant digit: the step's p95 reads up to 6.25 % high.
    expect(describeLive(live)).toMatch(
      /ms \(last 10 s\) {2}slowest login p95 6[2-5]\d(\.\d)? ms {2}check has items 66\.7%$/,
    );
  });
});
