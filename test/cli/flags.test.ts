import { describe, expect, it } from 'vitest';
import { closestName, parseFlags } from '../../lib/cli/flags.ts';

const SPEC = {
  values: ['users', 'duration'],
  lists: ['header'],
  switches: ['json', 'help'],
  short: { h: 'help' },
} as const;

describe('parseFlags', () => {
  it('reads long, inline, short, repeated and negative-number values', () => {
    const parsed = parseFlags(
      ['--users', '-1', '--duration=5s', '-h', '--header', 'A: 1', '--header=B: 2', '--json', '--', '--x'],
      SPEC,
      { maxPositionals: 1 },
    );
    expect(parsed).toEqual({
      values: { users: '-1', duration: '5s', help: true, header: ['A: 1', 'B: 2'], json: true },
      positionals: ['--x'],
      problems: [],
    });
  });

  it('names every problem at once instead of stopping at the first', () => {
    const parsed = parseFlags(
      ['--duraton', '5s', '--users', '--json=yes', '--users', '3', '--users', '4', 'stray', '--zzz'],
      SPEC,
    );
    expect(parsed.problems).toEqual([
      '--duraton: unknown option; did you mean --duration?',
      '--users: needs a value',
      '--json: takes no value (got "yes")',
      '--users: given more than once ("3", "4")',
      '--zzz: unknown option',
      'unexpected argument "stray"',
    ]);
  });
});

describe('closestName', () => {
  it('suggests a near spelling, a swapped pair or an abbreviation, and nothing for a far one', () => {
    const names = ['duration', 'users', 'requests', 'threshold'];
    expect(closestName('duraton', names)).toBe('duration');
    expect(closestName('usres', names)).toBe('users');
    expect(closestName('thresh', names)).toBe('threshold');
    expect(closestName('Requests', names)).toBe('requests');
    expect(closestName('bogus', names)).toBeUndefined();
  });
});
