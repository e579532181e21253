import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { parseQuery, wholeNumberParameter } from '../../lib/http/query.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import {
  durationField,
  HOST,
  HOST_AND_PORT,
  HOST_HEADER,
  HOST_OR_DOMAIN,
  isHttpUrl,
  numberField,
  ORIGIN,
  parseDuration,
  readHttpUrl,
  WHOLE_NUMBER,
  wholeNumberField,
  wholeNumberOf,
} from '../../lib/validation/rules.ts';

/** The field's value, or its one problem. */
function read(schema: v.GenericSchema, value: unknown): unknown {
  const result = v.safeParse(schema, value);
  return result.success ? result.output : result.issues.map((issue) => issue.message).join('; ');
}

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

  it('reads a whole number the same from JSON and from text, and nothing else as one', () => {
    expect([10, '10', ' 10 ', '-3', 0].map(wholeNumberOf)).toEqual([10, 10, 10, -3, 0]);
    expect([1.5, '1.5', '1e2', '+1', '0x10', '', ' ', true, null, [1]].map(wholeNumberOf)).toEqual(
      Array(10).fill(undefined),
    );
  });

  it('tells a string that is no URL from a URL of another scheme', () => {
    expect(readHttpUrl('https://api.test/v1')).toBeInstanceOf(URL);
    expect(readHttpUrl('api.test')).toBe('not a URL');
    expect(readHttpUrl('ftp://api.test')).toBe('not http');
  });

  it('takes a host alone, a ".domain" entry, and a Host header with its trailing dot and port', () => {
    expect(['db.internal', 'proxy-1.rds.test', '[::1]'].every((host) => HOST.test(host))).toBe(true);
    expect(['db.internal:5432', 'https://db', 'a..b'].some((host) => HOST.test(host))).toBe(false);
    expect(['.app.test', 'app.test', '[::ffff:127.0.0.1]'].every((host) => HOST_OR_DOMAIN.test(host))).toBe(
      true,
    );
    expect(['..app.test', 'app.test:80'].some((host) => HOST_OR_DOMAIN.test(host))).toBe(false);
    expect(HOST_HEADER.exec('App.Test.:3000')?.[1]).toBe('App.Test');
    expect(HOST_HEADER.exec('[::1]:80')?.[1]).toBe('[::1]');
    expect(HOST_HEADER.test('evil.test/x')).toBe(false);
  });

  it('reads a numeric field from a number or its text, with a message naming the value, the bound and the cap', () => {
    const users = wholeNumberField({ min: 1, max: 100, cap: 'LOADTEST_MAX_USERS' });
    expect([5, '5', ' 7 ', null, '', undefined].map((value) => read(users, value))).toEqual([
      5,
      5,
      7,
      undefined,
      undefined,
      undefined,
    ]);
    expect([0, 101, 1.5, '1e2', true].map((value) => read(users, value))).toEqual([
      '0 is below the minimum of 1',
      '101 is over the cap of 100 (LOADTEST_MAX_USERS)',
      '1.5 is not a whole number',
      '"1e2" is not a whole number',
      'true is not a whole number',
    ]);
    const rate = numberField({ min: 0, max: 50, aboveMin: true });
    expect([0.5, '2.5', 0, 'x', 51].map((value) => read(rate, value))).toEqual([
      0.5,
      2.5,
      '0 must be over 0',
      '"x" is not a number',
      '51 is over the cap of 50',
    ]);
    const duration = durationField({ unit: 's', maxMs: 60_000, cap: 'LOADTEST_MAX_DURATION' });
    expect([30, '2m', '500ms', 'soon', '2h'].map((value) => read(duration, value))).toEqual([
      30_000,
      '120s is over the cap of 60s (LOADTEST_MAX_DURATION)',
      500,
      '"soon" is not a duration (e.g. 30, 30s or 2m)',
      '7200s is over the cap of 60s (LOADTEST_MAX_DURATION)',
    ]);
  });

  it('gives the same verdict on a whole number in a variable, a query parameter and a load-test field', () => {
    const accepts = {
      config: (text: string) => attempt(() => loadConfig({ PORT: text }).port),
      query: (text: string) =>
        attempt(
          () =>
            parseQuery(
              { query: { n: text } },
              v.object({ n: wholeNumberParameter({ fallback: 1, min: -9, max: 99 }) }),
            ).n,
        ),
      loadTest: (text: string) =>
        attempt(() => {
          const options = parseLoadTestInput({ target: 'http://localhost:3000', users: text, workers: 1 });
          return options.model === 'closed' ? options.users : undefined;
        }),
    };
    for (const text of ['42', ' 42 ', '4.2', '1e1', '+42', '0x2a', 'forty']) {
      const verdicts = Object.values(accepts).map((read) => read(text));
      expect({ text, verdicts }).toEqual({ text, verdicts: Array(3).fill(verdicts[0]) });
    }
  });
});

function attempt(read: () => number | undefined): number | 'refused' {
  try {
    return read() ?? 'refused';
  } catch {
    return 'refused';
  }
}
