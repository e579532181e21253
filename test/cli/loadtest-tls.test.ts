// `loadwatch loadtest` against TLS targets: --http2, --cert/--key, --ca read from files, and --insecure's warning.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createSecureServer } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCertificates, type TestCertificates } from '../support/certificates.ts';
import { runCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

describe('loadwatch loadtest over TLS', () => {
  const dataDir = scratchDataDir('loadtest-tls-cli');
  const files = mkdtempSync(join(tmpdir(), 'loadwatch-pem-'));
  let database: TestDatabase;
  let certificates: TestCertificates;
  const servers: Server[] = [];
  const versions = new Map<string, number>();
  const env = () => ({ DATABASE_URL: database.url, LOADWATCH_DATA_DIR: dataDir.path });
  const file = (name: string, text: string) => {
    const path = join(files, name);
    writeFileSync(path, text);
    return path;
  };

  async function serve(options: Parameters<typeof createSecureServer>[0]): Promise<string> {
    const server = createSecureServer({ ...options, allowHTTP1: true }, (request, response) => {
      versions.set(request.httpVersion, (versions.get(request.httpVersion) ?? 0) + 1);
      response.end('ok');
    });
    servers.push(server as unknown as Server);
    return (await listenLocally(server as unknown as Server)).replace('http:', 'https:');
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    certificates = createTestCertificates();
  });
  afterAll(async () => {
    for (const server of servers) server.close();
    await database?.drop();
    dataDir.remove();
    rmSync(files, { recursive: true, force: true });
  });

  it('runs over HTTP/2 against a self-signed target with --insecure, warning before the run and in the summary', async () => {
    versions.clear();
    const target = await serve(certificates.selfSigned);
    const { code, output } = await runCli(
      ['loadtest', '--target', target, '--http2', '--insecure', '--users', '2', '--requests', '3'],
      env(),
    );
    expect(output).toMatch(/^WARNING: the target's TLS certificate was not verified \(insecure\)/m);
    expect(output).toMatch(/^ {2}WARNING {5}!! the target's TLS certificate was not verified/m);
    expect(output).toContain('  connection  HTTP/2, certificate NOT verified');
    expect(Object.fromEntries(versions)).toEqual({ '2.0': 6 });
    expect(code).toBe(0);
  });

  it('presents --cert and --key to a target that requires them, trusting it through --ca', async () => {
    versions.clear();
    const target = await serve({
      ...certificates.server,
      ca: certificates.ca,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const { code, output } = await runCli(
      [
        'loadtest',
        '--target',
        target,
        '--cert',
        file('client.crt', certificates.client.cert),
        '--key',
        file('client.key', certificates.client.key),
        '--ca',
        file('ca.crt', certificates.ca),
        '--users',
        '2',
        '--requests',
        '2',
        '--json',
      ],
      env(),
    );
    const report = JSON.parse(output.slice(output.indexOf('\n{') + 1));
    expect(report.connection).toEqual({
      protocol: 'HTTP/1.1',
      certificateVerification: 'verified against the given CA',
      clientCertificate: true,
    });
    expect(report.warnings).toEqual([]);
    expect(JSON.stringify(report)).not.toContain('PRIVATE KEY');
    expect(Object.fromEntries(versions)).toEqual({ '1.1': 4 });
    expect(code).toBe(0);
  });

  it('names a PEM file it cannot read and one that holds no certificate, and exits 2 without sending', async () => {
    versions.clear();
    const target = await serve(certificates.server);
    const { code, output } = await runCli(
      [
        'loadtest',
        '--target',
        target,
        '--cert',
        join(files, 'missing.crt'),
        '--ca',
        file('not-a-ca.crt', certificates.client.key),
      ],
      env(),
    );
    expect(output).toContain(`--cert: cannot read "${join(files, 'missing.crt')}": no such file`);
    expect(output).toContain('ca: is a PRIVATE KEY, not a CERTIFICATE');
    expect(versions.size).toBe(0);
    expect(code).toBe(2);
  });
});
