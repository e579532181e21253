// Runs in a fresh Node process: imports one handler bundle, answers one event, and reports timings on fd 3.
// Plain JavaScript, so that no type stripping adds to the start-up being measured.

import { writeSync } from 'node:fs';

const scriptStartMs = performance.now();
const [bundleUrl, invocationJson] = process.argv.slice(2);
const { event, context, remainingTimeMs } = JSON.parse(invocationJson);
const cpuAtStart = process.cpuUsage();
const { handler } = await import(bundleUrl);
const importedMs = performance.now();
// CPU time of every thread (V8 compiles and collects garbage beside the main one): what a busy machine inflates
// less than wall time.
const importCpu = process.cpuUsage(cpuAtStart);
const result = await handler(event, { ...context, getRemainingTimeInMillis: () => remainingTimeMs });
const respondedMs = performance.now();

writeSync(
  3,
  JSON.stringify({
    bootMs: scriptStartMs,
    importMs: importedMs - scriptStartMs,
    importCpuMs: (importCpu.user + importCpu.system) / 1000,
    firstResponseMs: respondedMs - scriptStartMs,
    statusCode: result.statusCode,
  }),
);
