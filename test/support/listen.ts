// Starts a test server on a free port of 127.0.0.1 and says where it is.

import type { Server } from 'node:http';

/** `backlog`: connections the kernel queues before accepting; Node's 511 drops some of a burst of thousands. */
export async function listenLocally(server: Server, backlog = 511): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', backlog, resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('the test server did not bind');
  return `http://127.0.0.1:${address.port}`;
}
