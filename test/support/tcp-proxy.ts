// A TCP relay on 127.0.0.1 that can silently kill its connections, as a frozen Lambda container experiences, or
// move to another server, as an endpoint's DNS name does in a failover.

import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Drops every open connection without telling the client; it finds out on its next write. */
  severSilently(): void;
  /** Sends new connections to another port and resets the open ones, as a failover's DNS change does. */
  switchTo(targetPort: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let currentPort = targetPort;
  const server = createServer((client) => {
    const upstream = createConnection({ port: currentPort, host: targetHost });
    const pair = { client, upstream };
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const forget = () => pairs.delete(pair);
    client.on('close', forget);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('proxy did not bind');
  return {
    port: address.port,
    severSilently() {
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        upstream.destroy();
        client.once('data', () => client.resetAndDestroy());
        client.resume();
      }
      pairs.clear();
    },
    switchTo(port) {
      currentPort = port;
      for (const { client, upstream } of pairs) {
        upstream.destroy();
        client.resetAndDestroy();
      }
      pairs.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const { client, upstream } of pairs) {
          client.destroy();
          upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
