// Runs the engine's shards on worker threads, so that a local run uses every core of the machine and not one.

import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { LoadwatchError } from '../errors.ts';
import type { EngineHooks, ShardEngine, ShardResult, ShardWork } from './engine.ts';
import type { ShardSnapshot } from './live.ts';

export type ThreadRequest =
  | { type: 'run'; id: number; work: ShardWork; snapshotEveryMs?: number }
  | { type: 'abort'; id: number };

export type ThreadReport =
  | { type: 'progress'; id: number; requests: number; failed: number }
  | { type: 'snapshot'; id: number; snapshot: ShardSnapshot }
  | { type: 'result'; id: number; result: ShardResult }
  | { type: 'error'; id: number; message: string; name?: string; code?: string; stack?: string };

/**
 * A shard that failed on its thread: the thread's error as thrown there (its name, code and message, so that the
 * report names it as on Lambda), or SHARD_THREAD_FAILED / SHARD_THREAD_POOL_CLOSED when the thread itself went.
 */
export class ShardThreadError extends LoadwatchError {
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, { ...options, code });
  }
}

/** As often as the engine itself asked the store before: an abort reaches a thread within about a second. */
const ABORT_POLL_MS = 1000;
/** How long close() lets stopped shards finish their requests in flight before the threads are ended. */
const DRAIN_MS = 5000;

const THREAD_SCRIPT = new URL('./shard-thread.ts', import.meta.url);

interface PendingShard {
  thread: Thread;
  hooks: EngineHooks;
  resolve: (result: ShardResult) => void;
  reject: (error: Error) => void;
  /** Stops asking whether to abort: the shard is over. */
  release: () => void;
}

interface Thread {
  worker: Worker;
  active: number;
}

export interface ShardThreadPool {
  /** The most threads it starts. */
  readonly threads: number;
  /** Threads started so far and still alive. */
  alive(): number;
  runShard: ShardEngine;
  /** Stops the shards still running, lets them finish (briefly), then ends every thread. */
  close(): Promise<void>;
}

/**
 * A pool of up to `threads` worker threads, started as shards arrive. Each shard goes to the thread running the
 * fewest, and a thread runs many at once: a round's shards must all be sending together, not queue behind one
 * another. The result comes back to this thread, which stores it, so the store (and its pool, or a test's
 * variant of it) stays the one the caller handed in.
 */
export function createShardThreadPool(options: { threads?: number } = {}): ShardThreadPool {
  const size = Math.max(1, Math.floor(options.threads ?? availableParallelism()));
  const threads: Thread[] = [];
  const pending = new Map<number, PendingShard>();
  let nextId = 0;
  let closed = false;
  /** Set by close(): called when the last shard has settled. */
  let onDrained: () => void = () => undefined;

  const settle = (id: number) => {
    const shard = pending.get(id);
    if (!shard) return undefined;
    pending.delete(id);
    shard.thread.active--;
    shard.release();
    if (pending.size === 0) onDrained();
    return shard;
  };

  const failThread = (thread: Thread, error: Error) => {
    const index = threads.indexOf(thread);
    if (index >= 0) threads.splice(index, 1);
    for (const [id, shard] of [...pending]) if (shard.thread === thread) settle(id)?.reject(error);
  };

  const startThread = (): Thread => {
    const worker = new Worker(THREAD_SCRIPT);
    const thread: Thread = { worker, active: 0 };
    worker.on('message', (report: ThreadReport) => {
      if (report.type === 'progress') {
        pending.get(report.id)?.hooks.onProgress?.({ requests: report.requests, failed: report.failed });
      } else if (report.type === 'snapshot') {
        // Posted before the result, so the final snapshot reaches the shard step before its result does.
        pending.get(report.id)?.hooks.onSnapshot?.(report.snapshot);
      } else if (report.type === 'result') {
        settle(report.id)?.resolve(report.result);
      } else {
        const error = new ShardThreadError(report.code ?? 'SHARD_THREAD_FAILED', report.message);
        if (report.name) error.name = report.name;
        if (report.stack) error.stack = report.stack;
        settle(report.id)?.reject(error);
      }
    });
    worker.on('error', (error) =>
      failThread(
        thread,
        new ShardThreadError('SHARD_THREAD_FAILED', `shard thread failed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    worker.on('exit', (code) =>
      failThread(
        thread,
        new ShardThreadError(
          closed ? 'SHARD_THREAD_POOL_CLOSED' : 'SHARD_THREAD_FAILED',
          `shard thread exited (code ${code}) before its shard finished`,
        ),
      ),
    );
    threads.push(thread);
    return thread;
  };

  const pickThread = (): Thread => {
    if (threads.length < size) return startThread();
    return threads.reduce((least, thread) => (thread.active < least.active ? thread : least));
  };

  const runShard: ShardEngine = (work, hooks = {}) => {
    if (closed)
      return Promise.reject(
        new ShardThreadError('SHARD_THREAD_POOL_CLOSED', 'the shard thread pool is closed'),
      );
    const id = nextId++;
    const thread = pickThread();
    thread.active++;
    return new Promise<ShardResult>((resolve, reject) => {
      const abort = () => thread.worker.postMessage({ type: 'abort', id } satisfies ThreadRequest);
      let poll: NodeJS.Timeout | undefined;
      const release = () => {
        clearInterval(poll);
        hooks.signal?.removeEventListener('abort', abort);
      };
      pending.set(id, { thread, hooks, resolve, reject, release });
      if (hooks.signal?.aborted) abort();
      hooks.signal?.addEventListener('abort', abort, { once: true });
      const { shouldAbort } = hooks;
      if (shouldAbort) {
        let asking = false;
        poll = setInterval(async () => {
          if (asking) return;
          asking = true;
          try {
            if (await shouldAbort()) abort();
          } catch {
            // An unreachable abort flag must not end a healthy shard; the next check tries again.
          } finally {
            asking = false;
          }
        }, ABORT_POLL_MS);
      }
      const snapshotEveryMs = hooks.onSnapshot ? (hooks.snapshotEveryMs ?? 1000) : undefined;
      thread.worker.postMessage({ type: 'run', id, work, snapshotEveryMs } satisfies ThreadRequest);
    });
  };

  const close = async () => {
    if (closed) return;
    closed = true;
    for (const [id, shard] of pending)
      shard.thread.worker.postMessage({ type: 'abort', id } satisfies ThreadRequest);
    const drained = new Promise<void>((resolve) => {
      onDrained = resolve;
      if (pending.size === 0) resolve();
    });
    // Unreferenced: a pool drained early leaves no timer holding the process.
    await Promise.race([drained, sleep(DRAIN_MS, undefined, { ref: false })]);
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  };

  return { threads: size, alive: () => threads.length, runShard, close };
}
