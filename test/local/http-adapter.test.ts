import type { Server } from 'node:http';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import type { ApiHandler } from '../../lib/http/app.ts';
import { closeServer, createLocalServer } from '../../lib/local/http-adapter.ts';
import { listenLocally } from '../support/listen.ts';

describe('the local adapter', () => {
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map(closeServer)));

  async function serve(handler: ApiHandler, onError?: (error: unknown) => void) {
    const server = createLocalServer({ handler, ...(onError ? { onError } : {}) });
    servers.push(server);
    return listenLocally(server);
  }

  async function post(url: string, body: string) {
    const response = await request(url, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    return {
      status: response.statusCode,
      type: response.headers['content-type'],
      body: await response.body.json(),
    };
  }

  it('answers a value returned without a statusCode as a 200 JSON body, as API Gateway does', async () => {
    const url = await serve((async () => ({ ok: true })) as unknown as ApiHandler);
    expect(await post(url, 'x')).toEqual({ status: 200, type: 'application/json', body: { ok: true } });
  });

  it('refuses a body over 10 MB with 413 before the handler runs', async () => {
    let invoked = false;
    const url = await serve(async () => {
      invoked = true;
      return { statusCode: 204 };
    });
    const tooLarge = await post(url, 'x'.repeat(10 * 1024 * 1024 + 1));
    expect(tooLarge).toEqual({
      status: 413,
      type: 'application/json',
      body: { message: 'Request Entity Too Large' },
    });
    expect(invoked).toBe(false);
  });

  it('answers 500 Internal Server Error when the handler throws, and reports the error', async () => {
    const errors: unknown[] = [];
    const url = await serve(
      async () => {
        throw new Error('handler broke');
      },
      (error) => errors.push(error),
    );
    expect(await post(url, 'x')).toEqual({
      status: 500,
      type: 'application/json',
      body: { message: 'Internal Server Error' },
    });
    expect((errors[0] as Error).message).toBe('handler broke');
  });
});
