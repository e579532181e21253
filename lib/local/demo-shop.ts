// A small shop API on 127.0.0.1 to point scenarios at: a login that hands out tokens, a catalogue, and a cart and
// checkout that need the token. `loadwatch start --demo-shop` serves it beside the stack for the scenario guide's
// examples; the scenario tests start their own. It keeps everything in memory, within fixed bounds.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { text } from 'node:stream/consumers';
import { LoadwatchError } from '../errors.ts';
import { closeServer } from './http-adapter.ts';

export const PRODUCTS = Array.from({ length: 20 }, (_, index) => ({
  id: `p${index + 1}`,
  name: `Product ${index + 1}`,
  priceCents: 500 + index * 125,
}));

/** What the shop saw, for a test to compare with what the scenario sent. */
export interface ShopRecord {
  logins: Array<{ user: string }>;
  orders: Array<{ authorization: string | undefined; status: number }>;
  /** Answers of /items: every fourth lacks "ok". */
  items: number;
  /** Ids requested under /products/. */
  productIds: string[];
  checkouts: number;
}

export interface DemoShop {
  server: Server;
  /** Empty unless the shop was created with `record: true`. */
  seen: ShopRecord;
  reset(): void;
}

/** The body as text; a client gone before it all arrived gets an answer nobody reads, not a rejection left unhandled. */
const bodyText = (request: IncomingMessage) => text(request).catch(() => '');

const parseJson = (text: string): Record<string, unknown> => {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
};

/** Tokens and carts kept at most: a long load test against the shop must not grow it without end. */
const DEMO_SHOP_MAX_SESSIONS = 100_000;

/** Adds an entry, dropping the oldest once the map holds the maximum (a Map iterates in insertion order). */
function setBounded<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as string);
}

/**
 * `record: true` keeps what every request sent in `seen`, for a test to compare; only tests need it.
 * `maxSessions` bounds the tokens and carts kept (the oldest go first).
 */
export function createDemoShop(options: { record?: boolean; maxSessions?: number } = {}): DemoShop {
  const maxSessions = options.maxSessions ?? DEMO_SHOP_MAX_SESSIONS;
  const issued = new Map<string, string>();
  const carts = new Map<string, string[]>();
  const nothingSeen = (): ShopRecord => ({ logins: [], orders: [], items: 0, productIds: [], checkouts: 0 });
  const seen = nothingSeen();
  const record = options.record === true;
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://shop');
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(value));
    };
    const user = () => issued.get(request.headers.authorization?.replace(/^Bearer /, '') ?? '');
    const path = url.pathname;
    if (path === '/ping') return json(200, { pong: true });
    if (path === '/orders-down') return json(503, { error: 'down' });
    if (path === '/empty') return json(200, {});
    if (path === '/login' && request.method === 'POST') {
      const body = parseJson(await bodyText(request));
      const name = typeof body.user === 'string' ? body.user : '';
      if (name === '') return json(400, { error: 'user is required' });
      if (record) seen.logins.push({ user: name });
      const token = randomUUID();
      setBounded(issued, token, name, maxSessions);
      return json(200, { data: { token } }, { 'x-session': `s-${name}` });
    }
    if (path === '/orders') {
      const status = user() ? 200 : 401;
      if (record) seen.orders.push({ authorization: request.headers.authorization, status });
      return json(status, status === 200 ? { orders: [{ id: 7 }], user: user() } : { error: 'log in first' });
    }
    if (path === '/items') {
      seen.items++;
      return json(200, seen.items % 4 === 0 ? { broken: true } : { ok: true });
    }
    if (path === '/products') return json(200, { products: PRODUCTS.map(({ id, name }) => ({ id, name })) });
    if (path.startsWith('/products/')) {
      const id = decodeURIComponent(path.slice('/products/'.length));
      if (record) seen.productIds.push(id);
      const product = PRODUCTS.find((item) => item.id === id);
      return product ? json(200, product) : json(404, { error: `no product ${id}` });
    }
    if (path === '/cart' && request.method === 'POST') {
      const owner = user();
      if (!owner) return json(401, { error: 'log in first' });
      const body = parseJson(await bodyText(request));
      const id = String(body.productId ?? '');
      if (!PRODUCTS.some((item) => item.id === id)) return json(400, { error: `no product ${id}` });
      const cart = carts.get(owner) ?? [];
      cart.push(id);
      setBounded(carts, owner, cart, maxSessions);
      return json(201, { items: cart.length });
    }
    if (path === '/checkout' && request.method === 'POST') {
      const owner = user();
      if (!owner) return json(401, { error: 'log in first' });
      const cart = carts.get(owner) ?? [];
      carts.delete(owner);
      if (cart.length === 0) return json(409, { error: 'the cart is empty' });
      seen.checkouts++;
      const totalCents = cart.reduce(
        (sum, id) => sum + (PRODUCTS.find((item) => item.id === id)?.priceCents ?? 0),
        0,
      );
      return json(201, { orderId: randomUUID(), items: cart.length, totalCents });
    }
    json(404, { error: 'not found' });
  });
  return {
    server,
    seen,
    reset() {
      Object.assign(seen, nothingSeen());
    },
  };
}

/** Where `loadwatch start --demo-shop` serves the shop, and the scenario guide's examples send their requests. */
export const DEMO_SHOP_PORT = 4100;

/** Serves a demo shop on 127.0.0.1:port; a port in use is refused by name. */
export function serveDemoShop(port: number): Promise<{ url: string; close(): Promise<void> }> {
  const { server } = createDemoShop();
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new LoadwatchError(
          error.code === 'EADDRINUSE'
            ? `the demo shop cannot listen on 127.0.0.1:${port}: the port is in use; choose another with --demo-shop-port`
            : `the demo shop cannot listen on 127.0.0.1:${port}: ${error.message}`,
          {
            code: error.code === 'EADDRINUSE' ? 'DEMO_SHOP_PORT_IN_USE' : 'DEMO_SHOP_LISTEN_FAILED',
            cause: error,
          },
        ),
      ),
    );
    server.listen(port, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => closeServer(server),
      }),
    );
  });
}
