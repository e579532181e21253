import { describe, expect, it } from 'vitest';
import { formatElapsed } from '../../lib/http/units.ts';

describe('formatElapsed', () => {
  it('gives seconds under a minute, as the alert and the status page both say them', () => {
    expect(formatElapsed(0)).toBe('0s');
    expect(formatElapsed(-250)).toBe('0s');
    expect(formatElapsed(45_000)).toBe('45s');
    expect(formatElapsed(59_400)).toBe('59s');
  });

  it('gives whole minutes under an hour, rounded, and hours with two-digit minutes beyond', () => {
    expect(formatElapsed(59_600)).toBe('1m');
    expect(formatElapsed(12 * 60_000 + 20_000)).toBe('12m');
    expect(formatElapsed(59 * 60_000 + 40_000)).toBe('1h00m');
    expect(formatElapsed((3 * 60 + 5) * 60_000)).toBe('3h05m');
    expect(formatElapsed(26 * 3_600_000)).toBe('26h00m');
  });
});
