// Starts the local HTTP target in a child process and talks to it over IPC; no child outlives the bench.

import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TARGET_SCRIPT = fileURLToPath(new URL('./http-target.ts', import.meta.url));
/** A target that has not answered by then is hung, not slow. */
const REPLY_TIMEOUT_MS = 10_000;

export interface TargetBehaviour {
  /** Response delays in ms, applied in turn to successive requests; none answers at once. */
  delaysMs?: number[];
  /** The request (1-based, counted since the last reset) on which the whole process freezes. */
  stallAtRequest?: number;
  stallMs?: number;
  /** Serve https with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** Serve HTTP/2: over TLS with HTTP/1.1 allowed beside it, else cleartext with prior knowledge (h2c). */
  http2?: boolean;
}

export type TargetCommand = { type: 'snapshot' } | { type: 'reset' };

export type TargetReport =
  | { type: 'listening'; port: number }
  | { type: 'reset' }
  | {
      type: 'snapshot';
      requests: number;
      /** CPU time of the target process since it started, user plus system. */
      cpuMicros: number;
      /** Time from each request's arrival to its response, since the previous snapshot (delay targets only). */
      handlingMs: number[];
    };

export type TargetSnapshot = Omit<Extract<TargetReport, { type: 'snapshot' }>, 'type'>;

export interface HttpTarget {
  url: string;
  snapshot(): Promise<TargetSnapshot>;
  /** Zeroes the request count (re-arming the stall) and the timings. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Kills the targets on every way out; a target also exits by itself when its IPC channel closes. */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // The listener is gone now, so this signal takes its default course and ends the bench.
      process.kill(process.pid, signal);
    });
  }
}

export function startHttpTarget(behaviour: TargetBehaviour = {}): Promise<HttpTarget> {
  installExitHooks();
  const child = fork(TARGET_SCRIPT, [JSON.stringify(behaviour)], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  running.add(child);

  const waiting: Array<{
    type: TargetReport['type'];
    resolve: (report: TargetReport) => void;
    reject: (error: Error) => void;
  }> = [];
  let exited: Error | null = null;
  child.on('message', (report: TargetReport) => {
    const index = waiting.findIndex((entry) => entry.type === report.type);
    if (index >= 0) waiting.splice(index, 1)[0]?.resolve(report);
  });
  const fail = (error: Error) => {
    running.delete(child);
    exited = error;
    for (const entry of waiting.splice(0)) entry.reject(error);
  };
  child.on('exit', (code, signal) => fail(new Error(`bench target exited (${signal ?? `code ${code}`})`)));
  child.on('error', (error) => fail(new Error('bench target could not be started', { cause: error })));

  const expect = <T extends TargetReport['type']>(type: T, command?: TargetCommand) =>
    new Promise<Extract<TargetReport, { type: T }>>((resolve, reject) => {
      if (exited) {
        reject(exited);
        return;
      }
      const timer = setTimeout(() => {
        reject(new Error(`bench target: no "${type}" within ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      waiting.push({
        type,
        resolve: (report) => {
          clearTimeout(timer);
          resolve(report as Extract<TargetReport, { type: T }>);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      if (command) child.send(command);
    });

  const stop = async () => {
    if (exited) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await gone;
  };

  return expect('listening').then(
    ({ port }) => ({
      url: `${behaviour.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
      snapshot: async () => {
        const { type: _type, ...snapshot } = await expect('snapshot', { type: 'snapshot' });
        return snapshot;
      },
      reset: async () => {
        await expect('reset', { type: 'reset' });
      },
      stop,
    }),
    async (error: unknown) => {
      await stop();
      throw error;
    },
  );
}
