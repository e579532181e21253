import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoShop, type DemoShop } from '../../lib/local/demo-shop.ts';

describe('the demo shop', () => {
  let shop: DemoShop | undefined;
  afterEach(() => new Promise<void>((done) => (shop ? shop.server.close(() => done()) : done())));

  const serve = async (options: Parameters<typeof createDemoShop>[0]) => {
    shop = createDemoShop(options);
    await new Promise<void>((listening) => shop?.server.listen(0, '127.0.0.1', listening));
    return `http://127.0.0.1:${(shop.server.address() as AddressInfo).port}`;
  };
  const login = async (base: string, user: string) => {
    const response = await fetch(`${base}/login`, { method: 'POST', body: JSON.stringify({ user }) });
    return ((await response.json()) as { data: { token: string } }).data.token;
  };
  const orders = (base: string, token: string) =>
    fetch(`${base}/orders`, { headers: { authorization: `Bearer ${token}` } }).then(
      (response) => response.status,
    );

  it('forgets the oldest token once it holds its maximum, so a long run cannot grow it without end', async () => {
    const base = await serve({ maxSessions: 2 });
    const first = await login(base, 'a');
    const second = await login(base, 'b');
    expect([await orders(base, first), await orders(base, second)]).toEqual([200, 200]);
    const third = await login(base, 'c');
    expect([await orders(base, first), await orders(base, second), await orders(base, third)]).toEqual([
      401, 200, 200,
    ]);
  });

  it('records what requests sent only when asked to', async () => {
    const base = await serve({});
    await orders(base, await login(base, 'a'));
    expect(shop?.seen.logins).toEqual([]);
    expect(shop?.seen.orders).toEqual([]);
  });

  it('stays up when a client goes away before its login body has all arrived', async () => {
    const base = await serve({});
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const { port } = new URL(base);
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise((connected) => socket.once('connect', connected));
      socket.write('POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"user":');
      await new Promise((wait) => setTimeout(wait, 50));
      socket.destroy();
      await new Promise((wait) => setTimeout(wait, 200));
      expect(rejections).toEqual([]);
      expect(await login(base, 'a')).toEqual(expect.any(String));
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});
