// A worker thread's side of the local shard pool: runs each shard it is handed with the engine, on its own core.

import { parentPort } from 'node:worker_threads';
import { runShard } from './engine.ts';
import type { ThreadReport, ThreadRequest } from './shard-thread-pool.ts';

const port = parentPort;
if (port === null) throw new Error('lib/loadtest/shard-thread.ts runs only as a worker thread');

const running = new Map<number, AbortController>();
const report = (message: ThreadReport) => port.postMessage(message);

port.on('message', (request: ThreadRequest) => {
  if (request.type === 'abort') {
    running.get(request.id)?.abort();
    return;
  }
  const controller = new AbortController();
  running.set(request.id, controller);
  runShard(request.work, {
    // The main thread asks the store and says when to stop; the engine stops at once on the signal.
    signal: controller.signal,
    onProgress: (progress) => report({ type: 'progress', id: request.id, ...progress }),
    ...(request.snapshotEveryMs === undefined
      ? {}
      : {
          snapshotEveryMs: request.snapshotEveryMs,
          onSnapshot: (snapshot) => report({ type: 'snapshot', id: request.id, snapshot }),
        }),
  })
    .then(
      (result) => report({ type: 'result', id: request.id, result }),
      (error: unknown) => {
        const { name, code, stack } = (error ?? {}) as { name?: unknown; code?: unknown; stack?: unknown };
        report({
          type: 'error',
          id: request.id,
          message: error instanceof Error ? error.message : String(error),
          ...(typeof name === 'string' ? { name } : {}),
          ...(typeof code === 'string' ? { code } : {}),
          ...(typeof stack === 'string' ? { stack } : {}),
        });
      },
    )
    .finally(() => running.delete(request.id));
});

port.on('close', () => {
  for (const controller of running.values()) controller.abort();
});
