// Runs in a fresh Node process: imports one handler bundle, answers one event, and reports timings on fd 3.
// Plain JavaScript, so that no type stripping adds to the start-up being measured.

import { writeSync } from 'node:fs';

const scriptStartMs = performance.now();
const [bundleUrl, invocationJson] = process.argv.slice(2);
const { event, context, remainingTimeMs } = JSON.parse(invocationJson);
const { handler } = await import(bundleUrl);
const importedMs = performance.now();
const result = await handler(event, { ...context, getRemainingTimeInMillis: () => remainingTimeMs });
const respondedMs = performance.now();

writeSync(
  3,
  JSON.stringify({
    bootMs: scriptStartMs,
    importMs: importedMs - scriptStartMs,
    firstResponseMs: respondedMs - scriptStartMs,
    statusCode: result.statusCode,
  }),
);
