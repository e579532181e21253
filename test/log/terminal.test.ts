import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { terminalLogWanted } from '../../lib/local/stack-log.ts';
import type { LogEntry } from '../../lib/log/logger.ts';
import { createTerminalLog, formatEntry } from '../../lib/log/terminal.ts';

const request = (status: number, durationMs = 1.5): LogEntry => ({
  time: new Date().toISOString(),
  level: status >= 500 ? 'error' : 'info',
  msg: 'request',
  service: 'loadwatch',
  method: 'GET',
  route: '/health',
  path: '/health',
  status,
  durationMs,
  requestId: 'r',
});

describe('createTerminalLog', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-01-01T12:00:00.000Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const capture = () => {
    const lines: string[] = [];
    const log = createTerminalLog({ out: (text) => lines.push(...text.trimEnd().split('\n')) });
    return { lines, log };
  };

  it('prints each line of a quiet terminal as it comes, in short form', () => {
    const { lines, log } = capture();
    for (let second = 0; second < 3; second++) {
      log.write(request(200));
      vi.advanceTimersByTime(2_000);
    }
    log.close();
    expect(lines).toEqual([
      '12:00:00 info  GET /health 200 1.5 ms',
      '12:00:02 info  GET /health 200 1.5 ms',
      '12:00:04 info  GET /health 200 1.5 ms',
    ]);
  });

  it('folds 3,000 requests a second into one summary line a second, and keeps a warning in view', () => {
    const { lines, log } = capture();
    for (let second = 0; second < 10; second++) {
      for (let index = 0; index < 3_000; index++) {
        log.write(request(index % 100 === 0 ? 503 : 200, index % 10));
        if (second === 5 && index === 1_500) {
          log.write({
            time: new Date().toISOString(),
            level: 'warn',
            msg: 'monitor: check health is failing',
          });
        }
        vi.advanceTimersByTime(1_000 / 3_000);
      }
    }
    log.close();
    // One request line when the flood starts, then one summary line a second, and the warning.
    expect(lines.length).toBeLessThanOrEqual(1 + 11 + 1);
    expect(lines[0]).toBe('12:00:00 error GET /health 503 0 ms');
    expect(lines[1]).toMatch(
      /^12:00:01 … {5}last 1s: 3000 more requests \(2970 2xx, 30 5xx; mean 4\.5 ms, max 9\.0 ms\) \(full log in the log file\)$/,
    );
    expect(lines.filter((line) => line.includes('monitor: check health is failing'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('GET /health'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('more requests')).length).toBeLessThanOrEqual(11);
  });

  it('shows control characters escaped, so a logged string cannot drive the terminal', () => {
    const line = formatEntry({
      time: '2026-01-01T12:00:00.000Z',
      level: 'warn',
      msg: 'probe failed',
      error: '\u001b]0;PWNED\u0007\u001b[31m',
    });
    expect(line).toBe('12:00:00 warn  probe failed  error=\\x1b]0;PWNED\\x07\\x1b[31m');
    expect(line.includes(String.fromCharCode(27))).toBe(false);
  });
});

describe('the local stack log format', () => {
  it('prints short lines only on a terminal, unless LOG_FORMAT says otherwise', () => {
    expect(terminalLogWanted('auto', true)).toBe(true);
    expect(terminalLogWanted('auto', false)).toBe(false);
    expect(terminalLogWanted('json', true)).toBe(false);
    expect(terminalLogWanted('pretty', false)).toBe(true);
  });

  it('refuses an unknown LOG_FORMAT by name', () => {
    expect(() => loadConfig({ LOG_FORMAT: 'yaml' })).toThrow(
      'LOG_FORMAT: "yaml" is not one of auto, json, pretty',
    );
    expect(loadConfig({}).logFormat).toBe('auto');
  });
});
