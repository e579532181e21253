// JUnit XML for CI systems: one testsuite per group, one testcase per test.

import type { TestResult } from './groups.ts';

/** XML 1.0 has no way to write most control characters, even escaped: they are dropped. */
const dropControlCharacters = (value: string) =>
  [...value].filter((char) => char >= ' ' || char === '\t' || char === '\n' || char === '\r').join('');

const xml = (value: string) =>
  dropControlCharacters(value).replace(
    /[&<>"']/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[char] ?? char,
  );

export function toJunit(results: TestResult[], baseUrl: string, timestamp: Date): string {
  const groups = [...new Set(results.map((result) => result.group))];
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const suites = groups.map((group) => {
    const cases = results.filter((result) => result.group === group);
    const failures = cases.filter((result) => !result.passed).length;
    const time = cases.reduce((sum, result) => sum + result.durationMs, 0);
    const body = cases
      .map((result) => {
        const open = `    <testcase classname="loadwatch.prodtest.${group}" name="${xml(result.name)}" time="${seconds(result.durationMs)}"`;
        return result.passed
          ? `${open}/>`
          : `${open}>\n      <failure message="${xml(result.reason)}" type="AssertionError">${xml(result.reason)}</failure>\n    </testcase>`;
      })
      .join('\n');
    return `  <testsuite name="${group}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${seconds(time)}" timestamp="${timestamp.toISOString().slice(0, 19)}" hostname="${xml(new URL(baseUrl).host)}">\n${body}\n  </testsuite>`;
  });
  const failures = results.filter((result) => !result.passed).length;
  const total = results.reduce((sum, result) => sum + result.durationMs, 0);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="loadwatch prodtest ${xml(baseUrl)}" tests="${results.length}" failures="${failures}" errors="0" time="${seconds(total)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
