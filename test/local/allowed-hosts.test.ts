import type { Server } from 'node:http';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config/config.ts';
import { freePort } from '../../lib/local/embedded-postgres.ts';
import { createLocalServer, type LocalServerOptions } from '../../lib/local/http-adapter.ts';
import { type CliRun, startCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { listenLocally } from '../support/listen.ts';

async function get(url: string, host: string) {
  const response = await request(url, { headers: { host } });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, never> };
}

describe('the local adapter', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });
  async function serve(allowedHosts?: LocalServerOptions['allowedHosts']) {
    const server = createLocalServer({
      handler: async () => ({ statusCode: 200, body: JSON.stringify({ served: true }) }),
      ...(allowedHosts ? { allowedHosts } : {}),
    });
    servers.push(server);
    const url = await listenLocally(server);
    return { url, port: new URL(url).port };
  }

  it('answers for localhost, 127.0.0.1 and [::1] with or without a port', async () => {
    const { url, port } = await serve();
    for (const host of [
      'localhost',
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      'LocalHost.',
    ]) {
      expect({ host, ...(await get(url, host)) }).toEqual({ host, status: 200, body: { served: true } });
    }
  });

  it('answers 421 naming the host and LOCAL_ALLOWED_HOSTS for any other host, as after a DNS rebinding', async () => {
    const { url, port } = await serve();
    for (const host of [
      'evil.test',
      `evil.test:${port}`,
      'localhost.evil.test',
      '127.0.0.1.nip.io',
      '10.0.0.1',
    ]) {
      const answer = await get(url, host);
      expect({ host, status: answer.status }).toEqual({ host, status: 421 });
      expect(answer.body).toEqual({
        error: {
          code: 'HOST_NOT_ALLOWED',
          message: `this server does not answer for host "${host.replace(/:\d+$/, '')}"; to allow it, add it to LOCAL_ALLOWED_HOSTS (now localhost, 127.0.0.1, [::1])`,
        },
      });
    }
  });

  it('answers 400 for a Host that is not a host name', async () => {
    const { url } = await serve();
    const answer = await get(url, 'localhost@evil.test');
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'HOST_INVALID' } });
  });

  it('answers for listed names, and for every subdomain of an entry starting with a dot', async () => {
    const { url } = await serve(['localhost', 'app.test', '.tunnel.test']);
    for (const host of ['app.test', 'tunnel.test', 'abc.tunnel.test', 'localhost']) {
      expect({ host, status: (await get(url, host)).status }).toEqual({ host, status: 200 });
    }
    for (const host of ['sub.app.test', 'eviltunnel.test', '127.0.0.1']) {
      expect({ host, status: (await get(url, host)).status }).toEqual({ host, status: 421 });
    }
  });
});

describe('LOCAL_ALLOWED_HOSTS', () => {
  it('is refused when an entry is not a host name', () => {
    expect(() => loadConfig({ LOCAL_ALLOWED_HOSTS: 'app.test, http://x.test:3000' })).toThrow(ConfigError);
    try {
      loadConfig({ LOCAL_ALLOWED_HOSTS: 'app.test, http://x.test:3000' });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        'LOCAL_ALLOWED_HOSTS: "http://x.test:3000" is not a host name (no scheme or port; ".example.test" for a domain and its subdomains)',
      ]);
    }
    expect(loadConfig({ LOCAL_ALLOWED_HOSTS: 'App.Test, .tunnel.test' }).localAllowedHosts).toEqual([
      'app.test',
      '.tunnel.test',
    ]);
  });

  it('lets npm start answer for the names it lists, and for no other', async () => {
    const dataDir = scratchDataDir('hosts');
    const port = await freePort();
    const stack: CliRun = startCli(['start'], {
      LOADWATCH_DATA_DIR: dataDir.path,
      PORT: String(port),
      LOCAL_ALLOWED_HOSTS: 'dev.app.test',
    });
    try {
      await stack.waitFor(/Ctrl-C stops everything/);
      const url = `http://127.0.0.1:${port}/health`;
      expect((await get(url, `dev.app.test:${port}`)).status).toBe(200);
      expect((await get(url, `localhost:${port}`)).status).toBe(200);
      const refused = await get(url, `evil.test:${port}`);
      expect(refused.status).toBe(421);
      expect(refused.body.error).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
    } finally {
      stack.child.kill('SIGTERM');
      await stack.exited;
      dataDir.remove();
    }
  });
});
