// What a run costs in US dollars: the counts the planner expects, priced from a dated table of AWS's prices.

export type LambdaArchitecture = 'arm64' | 'x86_64';
export const LAMBDA_ARCHITECTURES: readonly LambdaArchitecture[] = ['arm64', 'x86_64'];

/**
 * On-demand prices for us-east-1 from the public pricing pages, https://aws.amazon.com/lambda/pricing/ and
 * https://aws.amazon.com/step-functions/pricing/, as read on the date below: the first tier of each (Lambda's
 * next tier starts at 6 billion GB-seconds a month for x86, 7.5 billion for arm64), no free tier, no Savings
 * Plans. A Distributed Map child execution is charged as one state transition, and the states it runs as more.
 * Other regions cost up to about a third more; update the table, its date and the docs' figures together.
 */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2026-12-01',
  lambdaGbSecondUsd: { arm64: 0.000_013_333_4, x86_64: 0.000_016_666_7 },
  lambdaRequestUsd: 0.2 / 1_000_000,
  stateTransitionUsd: 0.025 / 1000,
} as const;

/** What a run is expected to use, as the planner counts it. */
export interface RunUsage {
  workerGbSeconds: number;
  /** Worker and coordinator invocations. */
  lambdaRequests: number;
  /** Transitions of the run's own execution and of the inline Map's iterations. */
  stateTransitions: number;
  /** Distributed Map child executions, each charged one transition to start (their states are counted above). */
  childExecutions: number;
}

export interface RunCostUsd {
  lambdaCompute: number;
  lambdaRequests: number;
  stateTransitions: number;
  childExecutions: number;
  total: number;
  architecture: LambdaArchitecture;
  region: string;
  pricesAsOf: string;
}

/**
 * To a tenth of a cent, and below that to the micro-dollar: a small run's fraction of a cent stays what it is
 * instead of being rounded up to a figure many times the real one (the display says "under $0.001").
 */
function roundUsd(value: number): number {
  const scale = value >= 0.001 ? 1000 : 1_000_000;
  return Math.round(value * scale) / scale;
}

export function priceRun(usage: RunUsage, architecture: LambdaArchitecture): RunCostUsd {
  const lambdaCompute = usage.workerGbSeconds * PRICES.lambdaGbSecondUsd[architecture];
  const lambdaRequests = usage.lambdaRequests * PRICES.lambdaRequestUsd;
  const stateTransitions = usage.stateTransitions * PRICES.stateTransitionUsd;
  const childExecutions = usage.childExecutions * PRICES.stateTransitionUsd;
  return {
    lambdaCompute: roundUsd(lambdaCompute),
    lambdaRequests: roundUsd(lambdaRequests),
    stateTransitions: roundUsd(stateTransitions),
    childExecutions: roundUsd(childExecutions),
    total: roundUsd(lambdaCompute + lambdaRequests + stateTransitions + childExecutions),
    architecture,
    region: PRICES.region,
    pricesAsOf: PRICES.asOf,
  };
}
