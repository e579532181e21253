// A small shop API on 127.0.0.1 for scenario tests and the scenario guide's examples: a login that hands out
// tokens, a catalogue, and a cart and checkout that need the token. Run it alone with
// `npx node test/support/demo-shop.ts [port]` (default 4100); it keeps everything in memory.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';

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
  seen: ShopRecord;
  /** Tokens issued, with their user. */
  issued: Map<string, string>;
  reset(): void;
}

const readBody = (request: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => resolve(text));
  });

const parseJson = (text: string): Record<string, unknown> => {
  try {
    const value = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
};

/** Log in, capture the token and a header, and send both to the orders API with its checks. */
export function loginScenario() {
  return {
    flows: [
      {
        steps: [
          {
            name: 'login',
            method: 'POST',
            path: '/login',
            json: { user: 'user-{{ $vu }}' },
            capture: { token: { json: '$.data.token' }, session: { header: 'x-session' } },
            checks: [{ status: 200 }],
          },
          {
            name: 'orders',
            path: '/orders',
            headers: { authorization: 'Bearer {{ token }}', 'x-session': '{{ session }}' },
            checks: [
              { status: 200 },
              { json: '$.orders[0].id', equals: 7 },
              { name: 'fast', latencyUnder: 2000 },
            ],
          },
        ],
      },
    ],
  };
}

export function createDemoShop(): DemoShop {
  const issued = new Map<string, string>();
  const carts = new Map<string, string[]>();
  const seen: ShopRecord = { logins: [], orders: [], items: 0, productIds: [], checkouts: 0 };
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
      const body = parseJson(await readBody(request));
      const name = typeof body.user === 'string' ? body.user : '';
      if (name === '') return json(400, { error: 'user is required' });
      seen.logins.push({ user: name });
      const token = randomUUID();
      issued.set(token, name);
      return json(200, { data: { token } }, { 'x-session': `s-${name}` });
    }
    if (path === '/orders') {
      const status = user() ? 200 : 401;
      seen.orders.push({ authorization: request.headers.authorization, status });
      return json(status, status === 200 ? { orders: [{ id: 7 }], user: user() } : { error: 'log in first' });
    }
    if (path === '/items') {
      seen.items++;
      return json(200, seen.items % 4 === 0 ? { broken: true } : { ok: true });
    }
    if (path === '/products') return json(200, { products: PRODUCTS.map(({ id, name }) => ({ id, name })) });
    if (path.startsWith('/products/')) {
      const id = decodeURIComponent(path.slice('/products/'.length));
      seen.productIds.push(id);
      const product = PRODUCTS.find((item) => item.id === id);
      return product ? json(200, product) : json(404, { error: `no product ${id}` });
    }
    if (path === '/cart' && request.method === 'POST') {
      const owner = user();
      if (!owner) return json(401, { error: 'log in first' });
      const body = parseJson(await readBody(request));
      const id = String(body.productId ?? '');
      if (!PRODUCTS.some((item) => item.id === id)) return json(400, { error: `no product ${id}` });
      const cart = carts.get(owner) ?? [];
      cart.push(id);
      carts.set(owner, cart);
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
    issued,
    reset() {
      seen.logins.length = 0;
      seen.orders.length = 0;
      seen.items = 0;
      seen.productIds.length = 0;
      seen.checkouts = 0;
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.argv[2] ?? 4100);
  const { server } = createDemoShop();
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`demo shop on http://127.0.0.1:${port} (Ctrl-C stops it)\n`);
  });
}
