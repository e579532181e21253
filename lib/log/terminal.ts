// Log entries as short lines for a person at a terminal, with floods folded into one summary line a second.

import { terminalSafe } from '../terminal-text.ts';
import type { LogEntry } from './logger.ts';

/** Fields every entry carries, left off the terminal line. */
const QUIET_FIELDS = new Set(['time', 'level', 'msg', 'service', 'stage']);

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (value !== null && typeof value === 'object') {
    const message = (value as { message?: unknown }).message;
    return typeof message === 'string' ? JSON.stringify(message) : JSON.stringify(value);
  }
  return String(value);
}

/** "12:00:01 info  GET /health 200 1.2 ms" for a request; "12:00:01 warn  message key=value …" otherwise. */
export function formatEntry(entry: LogEntry): string {
  const time = entry.time.slice(11, 19);
  const level = entry.level.padEnd(5);
  if (entry.msg === 'request') {
    return terminalSafe(
      `${time} ${level} ${entry.method} ${entry.path} ${entry.status} ${entry.durationMs} ms`,
    );
  }
  const fields = Object.entries(entry)
    .filter(([key, value]) => !QUIET_FIELDS.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  return terminalSafe([`${time} ${level} ${entry.msg}`, ...fields].join('  '));
}

const emptyWindow = () => ({
  /** Entries of each message held back in this window. */
  held: new Map<string, number>(),
  requests: { count: 0, byClass: new Map<string, number>(), maxMs: 0, totalMs: 0 },
});
type Window = ReturnType<typeof emptyWindow>;

export interface TerminalLog {
  write(entry: LogEntry): void;
  /** Prints what the current window held back, and stops the clock. */
  close(): void;
}

/**
 * Each message prints as it comes unless it already printed in this window or was held back in the last one;
 * the rest are counted, and each window ends with at most one summary line. A quiet terminal shows every
 * line; a terminal under 3,000 requests a second shows one line a second, so an alert stays in view.
 */
export function createTerminalLog(options: { out: (text: string) => void }): TerminalLog {
  const windowMs = 1_000;
  let current = emptyWindow();
  let printed = new Set<string>();
  let busyLastWindow = new Set<string>();

  const summary = (window: Window): string | null => {
    const parts: string[] = [];
    const { requests } = window;
    if (requests.count > 0) {
      const classes = [...requests.byClass].map(([name, count]) => `${count} ${name}`).join(', ');
      parts.push(
        `${requests.count} more requests (${classes}; mean ${(requests.totalMs / requests.count).toFixed(1)} ms, max ${requests.maxMs.toFixed(1)} ms)`,
      );
    }
    for (const [message, count] of window.held) {
      if (message !== 'request') parts.push(`"${message}" ×${count}`);
    }
    if (parts.length === 0) return null;
    return terminalSafe(
      `${new Date().toISOString().slice(11, 19)} …     last ${windowMs / 1000}s: ${parts.join(', ')} (full log in the log file)`,
    );
  };

  const flush = () => {
    const line = summary(current);
    if (line) options.out(`${line}\n`);
    busyLastWindow = new Set(current.held.keys());
    current = emptyWindow();
    printed = new Set();
  };
  const timer = setInterval(flush, windowMs);
  timer.unref();

  return {
    write(entry) {
      const key = entry.msg;
      if (!printed.has(key) && !busyLastWindow.has(key)) {
        printed.add(key);
        options.out(`${formatEntry(entry)}\n`);
        return;
      }
      current.held.set(key, (current.held.get(key) ?? 0) + 1);
      if (key === 'request') {
        const { requests } = current;
        const statusClass = `${String(entry.status).slice(0, 1)}xx`;
        requests.count += 1;
        requests.byClass.set(statusClass, (requests.byClass.get(statusClass) ?? 0) + 1);
        const ms = typeof entry.durationMs === 'number' ? entry.durationMs : 0;
        requests.totalMs += ms;
        requests.maxMs = Math.max(requests.maxMs, ms);
      }
    },
    close() {
      clearInterval(timer);
      flush();
    },
  };
}
