// A one-line progress bar on a terminal: requests done, current rate, errors.

export interface ProgressBar {
  update(done: number, failed: number): void;
  finish(): void;
}

export function createProgressBar(stream: NodeJS.WriteStream, total: number): ProgressBar {
  if (!stream.isTTY) return { update: () => undefined, finish: () => undefined };
  const started = performance.now();
  let lastDraw = 0;
  let lastDone = 0;
  let lastTime = started;
  let rate = 0;
  const draw = (done: number, failed: number) => {
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
      `\r${bar} ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} requests  ${Math.round(rate)} req/s  errors ${failed}  ${elapsed}s\x1b[K`,
    );
  };
  return {
    update(done, failed) {
      const now = performance.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      draw(done, failed);
    },
    finish() {
      stream.write('\r\x1b[K');
    },
  };
}
