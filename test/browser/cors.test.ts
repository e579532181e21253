// Headless Chromium on two origins fetching the local stack: what the allowlist lets a page read, and what it blocks.

import { mkdtemp, rm } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type Server,
} from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { createApiHandler } from '../../lib/http/app.ts';
import { freePort } from '../../lib/local/embedded-postgres.ts';
import { createLocalServer } from '../../lib/local/http-adapter.ts';
import { type LocalStack, startLocalStack } from '../../lib/local/stack.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { launchChromium } from '../support/browser.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

/** One request as the API saw it and the answer it gave, recorded between the browser and the API. */
interface Exchange {
  method: string;
  path: string;
  requestHeaders: IncomingHttpHeaders;
  status: number;
  responseHeaders: IncomingHttpHeaders;
}

interface RecordingProxy {
  url: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

type FetchOutcome =
  | { kind: 'response'; status: number; type: string; body: string }
  | { kind: 'error'; name: string; message: string };

interface OpenedPage {
  page: Page;
  consoleMessages: string[];
}

/**
 * Servers listen on 127.0.0.1, pages and API are addressed as localhost: different ports make different
 * origins of one site, as app.example.com and api.example.com would be. (With IP hosts Chromium treats the
 * API's Cross-Origin-Resource-Policy: same-site as same-origin, which would hide the no-cors probe.)
 */
const PAGE_HOST = 'localhost';

const logger = createLogger({ level: 'error' });
const cleanups: Array<() => Promise<unknown>> = [];
const contexts: BrowserContext[] = [];

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address === 'object' && address) resolve(address.port);
      else reject(new Error('server has no port'));
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A page origin: one tiny HTML page; its port makes it a different origin from the others. */
async function startPageServer(): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><meta charset="utf-8"><title>loadwatch CORS test page</title>');
  });
  const port = await listen(server);
  cleanups.push(() => close(server));
  return `http://${PAGE_HOST}:${port}`;
}

/** Forwards to the API unchanged and records every exchange, so tests see preflights on the wire. */
async function startRecordingProxy(upstreamPort: number): Promise<RecordingProxy> {
  const exchanges: Exchange[] = [];
  const server = createServer((request, response) => {
    const exchange: Exchange = {
      method: request.method ?? '',
      path: request.url ?? '',
      requestHeaders: request.headers,
      status: 0,
      responseHeaders: {},
    };
    exchanges.push(exchange);
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: upstreamPort,
        method: request.method,
        path: request.url,
        headers: request.headers,
        agent: false,
      },
      (upstreamResponse) => {
        exchange.status = upstreamResponse.statusCode ?? 0;
        exchange.responseHeaders = upstreamResponse.headers;
        response.writeHead(exchange.status, upstreamResponse.headers as OutgoingHttpHeaders);
        upstreamResponse.pipe(response);
      },
    );
    upstream.on('error', (error) => response.destroy(error));
    request.pipe(upstream);
  });
  const port = await listen(server);
  const proxy = { url: `http://${PAGE_HOST}:${port}`, exchanges, close: () => close(server) };
  cleanups.push(proxy.close);
  return proxy;
}

async function startStack(database: TestDatabase, env: Record<string, string>): Promise<LocalStack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'loadwatch-cors-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const config = loadConfig({
    DATABASE_URL: database.url,
    PORT: String(await freePort()),
    LOADWATCH_DATA_DIR: dataDir,
    ...env,
  });
  const stack = await startLocalStack(config, logger);
  cleanups.push(() => stack.stop());
  return stack;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

function accessControlHeaders(headers: IncomingHttpHeaders): string[] {
  return Object.keys(headers).filter((name) => name.startsWith('access-control-'));
}

let browser: Browser;
let allowedOrigin: string;
let refusedOrigin: string;
/** The local stack with CORS_ORIGINS=<allowed origin>. */
let api: RecordingProxy;
/** The same stack with CORS_CREDENTIALS=true. */
let credentialedApi: RecordingProxy;
/** The API's handler with one JSON POST route (the API has none yet), served by the local adapter. */
let echoApi: RecordingProxy;
/** The same with CORS_ALLOW_HEADERS pinned to Authorization, Content-Type and X-Api-Key. */
let pinnedApi: RecordingProxy;

/** POST /echo answering its JSON body, behind the API's own middleware with the CORS settings of env. */
async function startEchoApi(env: Record<string, string>): Promise<RecordingProxy> {
  const server = createLocalServer({
    handler: createApiHandler({
      routes: [
        { method: 'POST', path: '/echo', handler: (request) => ({ status: 200, body: request.body }) },
      ],
      deps: {},
      cors: loadConfig(env).cors,
      logger,
    }),
  });
  const port = await listen(server);
  cleanups.push(() => close(server));
  return startRecordingProxy(port);
}

async function openPage(origin: string): Promise<OpenedPage> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const consoleMessages: string[] = [];
  page.on('console', (message) => consoleMessages.push(message.text()));
  await page.goto(`${origin}/`);
  return { page, consoleMessages };
}

/** fetch() run by the page itself, so the browser applies CORS; errors come back by name. */
function fetchFrom(page: Page, url: string, init: RequestInit = {}): Promise<FetchOutcome> {
  return page.evaluate(
    async ([target, options]) => {
      try {
        const response = await fetch(target, options);
        const body = await response.text();
        return { kind: 'response', status: response.status, type: response.type, body } as const;
      } catch (error) {
        return { kind: 'error', name: (error as Error).name, message: (error as Error).message } as const;
      }
    },
    [url, init] as const,
  );
}

function expectResponse(outcome: FetchOutcome, status: number): unknown {
  expect(outcome).toMatchObject({ kind: 'response', status, type: 'cors' });
  return outcome.kind === 'response' ? JSON.parse(outcome.body) : undefined;
}

function expectBlocked(outcome: FetchOutcome): void {
  expect(outcome).toEqual({ kind: 'error', name: 'TypeError', message: 'Failed to fetch' });
}

function exchangesOf(proxy: RecordingProxy, method: string, path: string): Exchange[] {
  return proxy.exchanges.filter((exchange) => exchange.method === method && exchange.path === path);
}

describe('CORS in a real browser', () => {
  beforeAll(async () => {
    browser = await launchChromium();
    cleanups.push(() => browser.close());
    allowedOrigin = await startPageServer();
    refusedOrigin = await startPageServer();

    const database = await createTestDatabase('lw_cors');
    cleanups.push(() => database.drop());
    const stack = await startStack(database, { CORS_ORIGINS: allowedOrigin });
    api = await startRecordingProxy(portOf(stack.apiUrl));
    const credentialedStack = await startStack(database, {
      CORS_ORIGINS: allowedOrigin,
      CORS_CREDENTIALS: 'true',
    });
    credentialedApi = await startRecordingProxy(portOf(credentialedStack.apiUrl));

    echoApi = await startEchoApi({ CORS_ORIGINS: allowedOrigin });
    pinnedApi = await startEchoApi({
      CORS_ORIGINS: allowedOrigin,
      CORS_ALLOW_HEADERS: 'Authorization, Content-Type, X-Api-Key',
    });
  });

  afterAll(async () => {
    // The reverse of start-up: proxies before the stacks behind them, stacks before their database.
    for (const cleanup of cleanups.reverse().splice(0)) await cleanup().catch(() => undefined);
  });

  beforeEach(() => {
    for (const proxy of [api, credentialedApi, echoApi, pinnedApi]) proxy.exchanges.splice(0);
  });

  afterEach(async () => {
    // A fresh browser context per test: no preflight cache, cookies or connections carried over.
    for (const context of contexts.splice(0)) await context.close();
  });

  it('lets the page read GET /health without a preflight when its origin is allowed', async () => {
    const { page } = await openPage(allowedOrigin);

    const body = expectResponse(await fetchFrom(page, `${api.url}/health`), 200);

    expect(body).toMatchObject({ status: 'ok', service: 'loadwatch' });
    expect(api.exchanges.map((exchange) => exchange.method)).toEqual(['GET']);
    const [exchange] = api.exchanges;
    expect(exchange?.requestHeaders.origin).toBe(allowedOrigin);
    expect(exchange?.responseHeaders['access-control-allow-origin']).toBe(allowedOrigin);
    expect(exchange?.responseHeaders.vary).toMatch(/\bOrigin\b/);
  });

  it('sends a preflight, then the request, when an allowed origin adds an Authorization header', async () => {
    const { page } = await openPage(allowedOrigin);

    const outcome = await fetchFrom(page, `${api.url}/health`, { headers: { Authorization: 'Bearer x' } });

    expect(expectResponse(outcome, 200)).toMatchObject({ status: 'ok' });
    expect(api.exchanges.map((exchange) => exchange.method)).toEqual(['OPTIONS', 'GET']);
    const [preflight, actual] = api.exchanges;
    expect(preflight?.requestHeaders).toMatchObject({
      origin: allowedOrigin,
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'authorization',
    });
    expect(preflight?.status).toBe(204);
    expect(preflight?.responseHeaders).toMatchObject({
      'access-control-allow-origin': allowedOrigin,
      'access-control-allow-methods': expect.stringMatching(/\bGET\b/),
      'access-control-allow-headers': expect.stringMatching(/\bauthorization\b/i),
      'access-control-max-age': '600',
    });
    expect(actual?.requestHeaders.authorization).toBe('Bearer x');
  });

  it('lets an allowed page send any header its app needs, such as X-Api-Key and traceparent', async () => {
    const { page } = await openPage(allowedOrigin);

    const outcome = await fetchFrom(page, `${api.url}/health`, {
      headers: { 'X-Api-Key': 'k', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });

    expect(expectResponse(outcome, 200)).toMatchObject({ status: 'ok' });
    expect(api.exchanges.map((exchange) => exchange.method)).toEqual(['OPTIONS', 'GET']);
    const [preflight, actual] = api.exchanges;
    expect(preflight?.requestHeaders['access-control-request-headers']).toBe('traceparent,x-api-key');
    expect(preflight?.responseHeaders).toMatchObject({
      'access-control-allow-origin': allowedOrigin,
      'access-control-allow-headers': 'traceparent, x-api-key',
      vary: 'Origin, Access-Control-Request-Headers',
    });
    expect(actual?.requestHeaders['x-api-key']).toBe('k');
  });

  it('blocks a header outside CORS_ALLOW_HEADERS before the request is sent, and allows those inside', async () => {
    const { page, consoleMessages } = await openPage(allowedOrigin);
    const post = (headers: Record<string, string>) =>
      fetchFrom(page, `${pinnedApi.url}/echo`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: '{"sent":true}',
      });

    expect(expectResponse(await post({ 'X-Api-Key': 'k' }), 200)).toEqual({ sent: true });
    expectBlocked(
      await post({
        'X-Api-Key': 'k',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      }),
    );

    // Two preflights, one POST: the second request never left the browser.
    expect(pinnedApi.exchanges.map((exchange) => exchange.method)).toEqual(['OPTIONS', 'POST', 'OPTIONS']);
    expect(pinnedApi.exchanges[2]?.responseHeaders['access-control-allow-headers']).toBe(
      'Authorization, Content-Type, X-Api-Key',
    );
    await expect
      .poll(() => consoleMessages.join('\n'))
      .toMatch(/Request header field traceparent is not allowed by Access-Control-Allow-Headers/);
  });

  it('lets the page read 404, 405 and 413 errors when its origin is allowed', async () => {
    const { page } = await openPage(allowedOrigin);

    const missing = await fetchFrom(page, `${api.url}/no-such-path`);
    const wrongMethod = await fetchFrom(page, `${api.url}/health`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"broken":',
    });
    const tooLarge = await fetchFrom(page, `${api.url}/health`, {
      method: 'POST',
      body: 'x'.repeat(1_100_000),
    });

    expect(expectResponse(missing, 404)).toMatchObject({ error: { code: 'NOT_FOUND' } });
    expect(expectResponse(wrongMethod, 405)).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED' } });
    expect(expectResponse(tooLarge, 413)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(exchangesOf(api, 'OPTIONS', '/health')).toHaveLength(1);
  });

  it('lets the page read a 400 after a preflight when an allowed origin posts malformed JSON', async () => {
    const { page } = await openPage(allowedOrigin);
    const post = (body: string) =>
      fetchFrom(page, `${echoApi.url}/echo`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
      });

    const malformed = await post('{"broken":');
    const wellFormed = await post('{"fine":true}');

    expect(expectResponse(malformed, 400)).toMatchObject({ error: { code: 'MALFORMED_JSON' } });
    expect(expectResponse(wellFormed, 200)).toEqual({ fine: true });
    const [preflight] = exchangesOf(echoApi, 'OPTIONS', '/echo');
    expect(preflight?.requestHeaders['access-control-request-headers']).toBe('content-type');
    expect(preflight?.responseHeaders['access-control-allow-headers']).toMatch(/\bcontent-type\b/i);
    expect(exchangesOf(echoApi, 'POST', '/echo')).toHaveLength(2);
  });

  it('rejects a simple GET with a CORS TypeError when the origin is not allowed, though the API answered', async () => {
    const { page, consoleMessages } = await openPage(refusedOrigin);

    expectBlocked(await fetchFrom(page, `${api.url}/health`));
    // The server was reachable: the API answered 200, without a single CORS header...
    const [exchange] = api.exchanges;
    expect(exchange).toMatchObject({ method: 'GET', status: 200 });
    expect(exchange?.requestHeaders.origin).toBe(refusedOrigin);
    expect(accessControlHeaders(exchange?.responseHeaders ?? {})).toEqual([]);
    // ...so the browser blocked it for CORS, said so, and still hands out an opaque no-cors response.
    await expect
      .poll(() => consoleMessages.join('\n'))
      .toMatch(/has been blocked by CORS policy: No 'Access-Control-Allow-Origin'/);
    expect(await fetchFrom(page, `${api.url}/health`, { mode: 'no-cors' })).toEqual({
      kind: 'response',
      status: 0,
      type: 'opaque',
      body: '',
    });
  });

  it('blocks a preflighted request before it is sent when the origin is not allowed', async () => {
    const { page, consoleMessages } = await openPage(refusedOrigin);

    expectBlocked(await fetchFrom(page, `${api.url}/health`, { headers: { Authorization: 'Bearer x' } }));
    expectBlocked(
      await fetchFrom(page, `${api.url}/health`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      }),
    );

    // Only the preflights reached the API; it answered 204 with no CORS header, so nothing else was sent.
    expect(api.exchanges.map((exchange) => exchange.method)).toEqual(['OPTIONS', 'OPTIONS']);
    for (const preflight of api.exchanges) {
      expect(preflight.status).toBe(204);
      expect(accessControlHeaders(preflight.responseHeaders)).toEqual([]);
    }
    await expect
      .poll(() => consoleMessages.join('\n'))
      .toMatch(/blocked by CORS policy: Response to preflight request/);
  });

  it('blocks a credentialed fetch from an allowed origin when CORS_CREDENTIALS is off', async () => {
    const { page, consoleMessages } = await openPage(allowedOrigin);

    expectBlocked(await fetchFrom(page, `${api.url}/health`, { credentials: 'include' }));

    const [exchange] = api.exchanges;
    expect(exchange?.responseHeaders['access-control-allow-origin']).toBe(allowedOrigin);
    expect(exchange?.responseHeaders['access-control-allow-credentials']).toBeUndefined();
    await expect.poll(() => consoleMessages.join('\n')).toMatch(/Access-Control-Allow-Credentials/);
  });

  it('sends cookies and lets the page read the answer when CORS_CREDENTIALS=true and the origin is allowed', async () => {
    const { page } = await openPage(allowedOrigin);
    await page.context().addCookies([{ name: 'session', value: 'abc123', url: credentialedApi.url }]);

    const outcome = await fetchFrom(page, `${credentialedApi.url}/health`, {
      credentials: 'include',
      headers: { Authorization: 'Bearer x' },
    });

    expect(expectResponse(outcome, 200)).toMatchObject({ status: 'ok' });
    expect(credentialedApi.exchanges.map((exchange) => exchange.method)).toEqual(['OPTIONS', 'GET']);
    for (const exchange of credentialedApi.exchanges) {
      expect(exchange.responseHeaders).toMatchObject({
        'access-control-allow-origin': allowedOrigin,
        'access-control-allow-credentials': 'true',
      });
    }
    expect(credentialedApi.exchanges[1]?.requestHeaders.cookie).toBe('session=abc123');
  });

  it('blocks a credentialed fetch when CORS_CREDENTIALS=true but the origin is not allowed', async () => {
    const { page } = await openPage(refusedOrigin);
    await page.context().addCookies([{ name: 'session', value: 'abc123', url: credentialedApi.url }]);

    expectBlocked(await fetchFrom(page, `${credentialedApi.url}/health`, { credentials: 'include' }));
    expectBlocked(
      await fetchFrom(page, `${credentialedApi.url}/health`, {
        credentials: 'include',
        headers: { Authorization: 'Bearer x' },
      }),
    );

    expect(credentialedApi.exchanges.map((exchange) => exchange.method)).toEqual(['GET', 'OPTIONS']);
    for (const exchange of credentialedApi.exchanges) {
      expect(accessControlHeaders(exchange.responseHeaders)).toEqual([]);
    }
  });
});
