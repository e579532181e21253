// Certificates made by openssl at test time: a private CA, a server certificate it signed for 127.0.0.1, a
// self-signed one and client certificates for the load engine's TLS tests; a certificate of a chosen lifetime for
// the monitor's tls checks.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  /** The private CA's certificate (PEM). */
  ca: string;
  /** A server certificate for 127.0.0.1 and localhost, signed by the CA, and its key. */
  server: { cert: string; key: string };
  /** A self-signed server certificate for 127.0.0.1, which nothing trusts. */
  selfSigned: { cert: string; key: string };
  /** A client certificate signed by the CA, and its key. */
  client: { cert: string; key: string };
  /** A client certificate signed by a CA no server trusts. */
  stranger: { cert: string; key: string };
  /** The same key as `client`, encrypted with a passphrase. */
  encryptedClientKey: string;
}

/** Generates every certificate in a temporary directory (P-256 keys: a few milliseconds each). */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'loadwatch-certs-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  const key = (name: string) =>
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
  // File names hold no space: each command line is split on them.
  const run = (command: string, ...rest: string[]) => openssl(...command.split(' '), ...rest);
  const selfSigned = (name: string, subject: string, extensions: string[]) => {
    key(`${name}.key`);
    run(`req -x509 -new -key ${name}.key -out ${name}.crt -days 2 -subj`, subject, ...extensions);
  };
  const signed = (name: string, by: string, subject: string, extensions: string) => {
    key(`${name}.key`);
    run(`req -new -key ${name}.key -out ${name}.csr -subj`, subject);
    writeFileSync(join(dir, `${name}.ext`), extensions);
    run(
      `x509 -req -in ${name}.csr -CA ${by}.crt -CAkey ${by}.key -CAcreateserial -out ${name}.crt -days 2 -extfile ${name}.ext`,
    );
  };
  try {
    selfSigned('ca', '/CN=loadwatch test CA', [
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    selfSigned('other-ca', '/CN=loadwatch untrusted CA', [
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    signed(
      'server',
      'ca',
      '/CN=127.0.0.1',
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    );
    selfSigned('self', '/CN=127.0.0.1', ['-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
    signed('client', 'ca', '/CN=loadwatch load test', 'extendedKeyUsage=clientAuth\n');
    signed('stranger', 'other-ca', '/CN=someone else', 'extendedKeyUsage=clientAuth\n');
    openssl(
      'pkey',
      '-in',
      'client.key',
      '-out',
      'client-encrypted.key',
      '-aes256',
      '-passout',
      'pass:secret',
    );
    return {
      ca: read('ca.crt'),
      server: { cert: read('server.crt'), key: read('server.key') },
      selfSigned: { cert: read('self.crt'), key: read('self.key') },
      client: { cert: read('client.crt'), key: read('client.key') },
      stranger: { cert: read('stranger.crt'), key: read('stranger.key') },
      encryptedClientKey: read('client-encrypted.key'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestCertificate {
  /** The CA's certificate, PEM, in a file a check's caFile can name. */
  caFile: string;
  key: string;
  cert: string;
  remove(): void;
}

/** A server certificate signed by a fresh CA named `issuer`, valid from now for `days` days. */
export function issueTestCertificate(days: number, issuer = 'loadwatch test CA'): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'lw-cert-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '365',
    '-subj',
    `/CN=${issuer}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(
    file('server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    String(days),
    '-extfile',
    file('server.ext'),
  );
  return {
    caFile: file('ca.pem'),
    key: readFileSync(file('server.key'), 'utf8'),
    cert: readFileSync(file('server.pem'), 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
