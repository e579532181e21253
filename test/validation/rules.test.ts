import { describe, expect, it } from 'vitest';
import { HOST_AND_PORT, isHttpUrl, ORIGIN, parseDuration, WHOLE_NUMBER } from '../../lib/validation/rules.ts';

describe('validation rules', () => {
  it('accepts an origin only when nothing follows the host and port', () => {
    for (const origin of [
      'https://app.test',
      'http://127.0.0.1:8080',
      'HTTPS://App.Test',
      'http://[::1]:3000',
    ]) {
      expect({ origin, ok: ORIGIN.test(origin) }).toEqual({ origin, ok: true });
    }
    for (const origin of [
      'https://app.test/',
      'https://app.test/path',
      'ftp://app.test',
      'https://a b',
      'app.test',
    ]) {
      expect({ origin, ok: ORIGIN.test(origin) }).toEqual({ origin, ok: false });
    }
  });

  it('accepts a host with an optional port and no scheme', () => {
    expect(['api.test', 'api.test:8443', '[::1]:80'].every((host) => HOST_AND_PORT.test(host))).toBe(true);
    expect(['https://api.test', 'api.test/x', 'api.test:'].some((host) => HOST_AND_PORT.test(host))).toBe(
      false,
    );
  });

  it('reads a minus sign as part of a whole number, so that a range can refuse it by name', () => {
    expect(['0', '-5', '42'].every((text) => WHOLE_NUMBER.test(text))).toBe(true);
    expect(['1.5', '1e3', '', ' 1', '+1'].some((text) => WHOLE_NUMBER.test(text))).toBe(false);
  });

  it('reads durations with a unit, or in the default unit when bare', () => {
    expect(parseDuration('250ms', 's')).toBe(250);
    expect(parseDuration('2m', 's')).toBe(120_000);
    expect(parseDuration(30, 's')).toBe(30_000);
    expect(parseDuration('5', 'ms')).toBe(5);
    expect(parseDuration('soon', 's')).toBeNull();
    expect(parseDuration(-1, 's')).toBeNull();
  });

  it('takes only http and https URLs without control characters', () => {
    expect(isHttpUrl('https://api.test/v1')).toBe(true);
    expect(isHttpUrl('file:///etc/passwd')).toBe(false);
    expect(isHttpUrl('https://api.test/\u001b[2J')).toBe(false);
  });
});
