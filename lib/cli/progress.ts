// A one-line progress bar on a terminal: requests done, and the run's rate, errors and percentiles over its last
// seconds as its shards last wrote them.

import type { LiveResults } from '../loadtest/live.ts';

export interface ProgressBar {
  update(done: number, failed: number): void;
  /** The figures so far from the shards' snapshots; they replace the bar's own rate and error count. */
  live(results: LiveResults): void;
  finish(): void;
}

const count = (value: number) => value.toLocaleString('en-US');
const decimal = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 1 });

/**
 * "210 req/s  errors 3 (0.2%)  p50 4.1 · p95 12 · p99 31 ms (last 10 s)": the live figures in one stretch; with
 * several steps, then the slowest over the same seconds and the check passing least so far, e.g.
 * "  slowest login p95 620 ms  check has token 78.6%".
 */
export function describeLive(results: LiveResults): string {
  const { window } = results;
  const whole =
    `${decimal(window.rps)} req/s  errors ${count(results.totals.failed)} (${decimal(results.errorPercent)}%)  ` +
    `p50 ${decimal(window.latencyMs.p50)} · p95 ${decimal(window.latencyMs.p95)} · p99 ${decimal(window.latencyMs.p99)} ms (last ${window.seconds} s)`;
  const slowest = results.steps
    .filter((item) => item.window.requests > 0)
    .sort((a, b) => b.window.latencyMs.p95 - a.window.latencyMs.p95)[0];
  const step =
    results.steps.length > 1 && slowest
      ? `  slowest ${slowest.name} p95 ${decimal(slowest.window.latencyMs.p95)} ms`
      : '';
  const failing = results.steps
    .flatMap((item) => item.checks)
    .filter((check) => check.failed > 0)
    .map((check) => ({ name: check.name, rate: (check.passed / (check.passed + check.failed)) * 100 }))
    .sort((a, b) => a.rate - b.rate)[0];
  return `${whole}${step}${failing ? `  check ${failing.name} ${decimal(failing.rate)}%` : ''}`;
}

export function createProgressBar(stream: NodeJS.WriteStream, total: number): ProgressBar {
  if (!stream.isTTY) return { update: () => undefined, live: () => undefined, finish: () => undefined };
  const started = performance.now();
  let lastDraw = 0;
  let lastDone = 0;
  let lastTime = started;
  let rate = 0;
  let done = 0;
  let failed = 0;
  let figures: string | null = null;
  const draw = () => {
    const now = performance.now();
    if (now - lastTime >= 500) {
      rate = ((done - lastDone) * 1000) / (now - lastTime);
      lastDone = done;
      lastTime = now;
    }
    const width = 30;
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(fraction * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    const elapsed = ((now - started) / 1000).toFixed(1);
    stream.write(
      `\r${bar} ${count(done)}/${count(total)} requests  ${figures ?? `${Math.round(rate)} req/s  errors ${failed}`}  ${elapsed}s\x1b[K`,
    );
  };
  return {
    update(requests, failures) {
      // Never behind what the shards' snapshots already said.
      done = Math.max(done, requests);
      failed = Math.max(failed, failures);
      const now = performance.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      draw();
    },
    live(results) {
      if (results.shards.reporting === 0) return;
      figures = describeLive(results);
      // The shards' count is the one they wrote: never behind what this process has already shown.
      done = Math.max(done, results.totals.requests);
      draw();
    },
    finish() {
      stream.write('\r\x1b[K');
    },
  };
}
