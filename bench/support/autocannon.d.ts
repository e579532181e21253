// The part of autocannon's programmatic API (lib/run.js, lib/aggregateResult.js) the load-engine bench uses.

declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Options {
      url: string;
      connections?: number;
      pipelining?: number;
      /** Seconds; ignored when amount is set. */
      duration?: number;
      amount?: number;
      /** Requests per second over all connections; enables its coordinated-omission correction. */
      overallRate?: number;
      ignoreCoordinatedOmission?: boolean;
      /** Seconds. */
      timeout?: number;
    }

    /** Milliseconds, from autocannon's own histogram. */
    interface LatencyFigures {
      average: number;
      p50: number;
      p90: number;
      p99: number;
      max: number;
      totalCount: number;
    }

    interface Result {
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      latency: LatencyFigures;
      requests: { total: number; sent: number; average: number };
    }

    interface Instance extends EventEmitter {
      stop(): void;
    }
  }

  function autocannon(
    options: autocannon.Options,
    callback: (error: Error | null, result: autocannon.Result) => void,
  ): autocannon.Instance;

  export = autocannon;
}
