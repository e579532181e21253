import { describe, expect, it } from 'vitest';
import { hasControlCharacters, terminalJson, terminalSafe } from '../lib/terminal-text.ts';
import { rawControls } from './support/terminal.ts';

describe('terminalSafe', () => {
  it('writes out ESC, BEL, CSI, DEL and C1 controls instead of passing them to the terminal', () => {
    expect(terminalSafe('\x1b]0;PWNED\x07\x1b[31mred\x7f\x9b2J\x85')).toBe(
      '\\x1b]0;PWNED\\x07\\x1b[31mred\\x7f\\x9b2J\\x85',
    );
  });

  it('escapes line feeds, carriage returns and tabs in a one-line field', () => {
    expect(terminalSafe('a\nb\rc\td\x00')).toBe('a\\nb\\rc\\td\\x00');
  });

  it('keeps line feeds and tabs, and still escapes a carriage return, in a block of lines', () => {
    expect(terminalSafe('one\n\ttwo\r\x1b[2K', { keepLines: true })).toBe('one\n\ttwo\\r\\x1b[2K');
  });

  it('leaves printable text, accents and emoji alone', () => {
    const text = 'GET /orders?id=1 → 200 · café ✓ 日本 🚀 \\x1b';
    expect(terminalSafe(text)).toBe(text);
    expect(hasControlCharacters(text)).toBe(false);
    expect(hasControlCharacters('a\x9bb')).toBe(true);
  });
});

describe('terminalJson', () => {
  it('escapes DEL and C1 as \\u escapes and stays JSON that parses back to the same value', () => {
    const value = { error: '\x1b]0;PWNED\x07\x9b31m\x7f', path: '/ok' };
    const json = terminalJson(value);
    expect(rawControls(json)).toEqual([]);
    expect(json).toContain('\\u001b]0;PWNED\\u0007\\u009b31m\\u007f');
    expect(JSON.parse(json)).toEqual(value);
  });
});
