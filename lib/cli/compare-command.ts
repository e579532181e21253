// `loadwatch compare A B`: two runs step by step; exit 1 on a regression beyond tolerance and noise, 2 on bad input.

import { writeFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import { EXIT } from '../errors.ts';
import {
  CompareInputError,
  type Comparison,
  compareReports,
  DEFAULT_SIGNIFICANCE,
  DEFAULT_TOLERANCE,
  parseTolerance,
  type Tolerance,
} from '../loadtest/compare.ts';
import {
  formatComparison,
  formatComparisonJunit,
  formatComparisonMarkdown,
} from '../loadtest/compare-format.ts';
import { terminalJson, terminalSafe } from '../terminal-text.ts';
import { parseFlags } from './flags.ts';
import type { CliIo } from './io.ts';
import { reportSources } from './report-source.ts';
import { UsageError } from './usage-error.ts';

/** The default tolerances as --max-regression would spell them. */
export const COMPARE_DEFAULTS = Object.entries(DEFAULT_TOLERANCE)
  .map(([metric, value]) => `${metric}=${value}${metric === 'errors' ? 'pp' : '%'}`)
  .join(',');

export const compareHelp = () => `Usage: loadwatch compare BASELINE CANDIDATE [options]

BASELINE and CANDIDATE are run ids (read from the database, or from --api) or report JSON files
(loadtest --json > run.json). Each step present in both is compared on p50, p95, p99, error rate
and rate. A change is a regression only when it is over its tolerance and the candidate's
per-second samples of that step are worse than the baseline's beyond run-to-run noise
(one-sided Mann-Whitney U test, p under --significance).

Options:
  --max-regression LIST  tolerances (default ${COMPARE_DEFAULTS}):
                         latencies and rate in % of the baseline, errors in percentage points
  --significance P       p-value under which a change is beyond noise (default ${DEFAULT_SIGNIFICANCE})
  --api URL              read run ids from this loadwatch API (GET /v1/loadtests/{id})
  --json                 the comparison as JSON on stdout
  --markdown             a Markdown table on stdout, for a pull-request comment
  --junit FILE           also write a JUnit XML report, one test case per step and metric
Exit: 0 no regression, 1 a regression, 2 bad usage or input.
`;

/** "0.05": a probability strictly between 0 and 1. */
export function parseSignificance(text: string | undefined, problems: string[]): number {
  if (text === undefined) return DEFAULT_SIGNIFICANCE;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || value >= 1) {
    problems.push(`--significance: "${text}" is not a probability between 0 and 1 (e.g. 0.05)`);
    return DEFAULT_SIGNIFICANCE;
  }
  return value;
}

/** The tolerance given, with its problems added to the command line's. */
export function toleranceFrom(text: string | undefined, problems: string[]): Tolerance {
  try {
    return parseTolerance(text);
  } catch (error) {
    if (!(error instanceof CompareInputError)) throw error;
    problems.push(...error.problems);
    return DEFAULT_TOLERANCE;
  }
}

/** Writes where --junit points; a path that cannot be written is bad input. */
function writeJunit(path: string, comparison: Comparison): void {
  try {
    writeFileSync(path, formatComparisonJunit(comparison));
  } catch (error) {
    throw new UsageError(`--junit: cannot write "${path}": ${(error as Error).message}`, { cause: error });
  }
}

export async function compareCommand(argv: string[], config: Config, io: CliIo): Promise<number> {
  const { values, positionals, problems } = parseFlags(
    argv,
    {
      values: ['max-regression', 'significance', 'api', 'junit'],
      switches: ['json', 'markdown'],
    },
    { maxPositionals: 2 },
  );
  if (positionals.length < 2) problems.push('give two runs: loadwatch compare BASELINE CANDIDATE');
  const tolerance = toleranceFrom(values['max-regression'], problems);
  const significance = parseSignificance(values.significance, problems);
  if (values.json && values.markdown) problems.push('--json and --markdown: choose one output');
  if (values.api !== undefined && !URL.canParse(values.api))
    problems.push(`--api: "${values.api}" is not a URL (e.g. http://localhost:3000)`);
  if (problems.length) throw new UsageError(problems);
  const sources = reportSources(config, values.api);
  try {
    const [baseline, candidate] = [
      await sources.load(positionals[0] as string),
      await sources.load(positionals[1] as string),
    ];
    const comparison = compareReports(baseline, candidate, { tolerance, significance });
    if (values.junit) writeJunit(values.junit, comparison);
    if (values.json) io.out(`${terminalJson(comparison)}\n`);
    else if (values.markdown) io.out(terminalSafe(formatComparisonMarkdown(comparison), { keepLines: true }));
    else io.out(terminalSafe(formatComparison(comparison), { keepLines: true }));
    return comparison.regressed ? EXIT.failed : EXIT.ok;
  } finally {
    await sources.close();
  }
}
