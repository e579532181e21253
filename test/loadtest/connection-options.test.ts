// The connection fields of the load-test input: HTTP/2, client certificates, a CA and --insecure, each checked
// with a message naming the field and what is wrong, and kept out of the report but for what was used.

import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_PEM_BYTES } from '../../lib/loadtest/connection-options.ts';
import { LoadTestInputError } from '../../lib/loadtest/input-error.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';
import { createTestCertificates, type TestCertificates } from '../support/certificates.ts';

const problemsOf = (input: Record<string, unknown>): string[] => {
  try {
    parseLoadTestInput({ users: 1, requests: 1, ...input });
  } catch (error) {
    if (error instanceof LoadTestInputError) return error.problems;
    throw error;
  }
  return [];
};

describe('parseLoadTestInput connection fields', () => {
  let certificates: TestCertificates;
  beforeAll(() => {
    certificates = createTestCertificates();
  });
  const https = 'https://127.0.0.1:8443';

  it('keeps HTTP/2, the client certificate and the CA for the workers', () => {
    const options = parseLoadTestInput({
      target: https,
      users: 1,
      requests: 1,
      http2: true,
      clientCert: certificates.client.cert,
      clientKey: certificates.client.key,
      ca: certificates.ca,
    });
    expect(options.connection).toEqual({
      http2: true,
      clientCert: certificates.client.cert,
      clientKey: certificates.client.key,
      ca: certificates.ca,
      insecure: false,
    });
  });

  it('adds nothing to the options when no connection field is given or each is its default', () => {
    expect(parseLoadTestInput({ target: https, users: 1, requests: 1 }).connection).toBeUndefined();
    expect(
      parseLoadTestInput({ target: https, users: 1, requests: 1, http2: false, insecure: false }).connection,
    ).toBeUndefined();
  });

  it('accepts HTTP/2 to a plain-http target (prior knowledge), but no certificate field', () => {
    expect(
      parseLoadTestInput({ target: 'http://127.0.0.1:9', users: 1, requests: 1, http2: true }).connection,
    ).toEqual({ http2: true, insecure: false });
    expect(
      problemsOf({
        target: 'http://127.0.0.1:9',
        clientCert: certificates.client.cert,
        clientKey: certificates.client.key,
        insecure: true,
      }),
    ).toEqual([
      'clientCert: applies to https targets only',
      'clientKey: applies to https targets only',
      'insecure: applies to https targets only',
    ]);
  });

  it('names a certificate without its key, a key without its certificate, and a key of another certificate', () => {
    expect(problemsOf({ target: https, clientCert: certificates.client.cert })).toEqual([
      'clientKey: is required with clientCert',
    ]);
    expect(problemsOf({ target: https, clientKey: certificates.client.key })).toEqual([
      'clientCert: is required with clientKey',
    ]);
    expect(
      problemsOf({
        target: https,
        clientCert: certificates.client.cert,
        clientKey: certificates.stranger.key,
      }),
    ).toEqual(['clientKey: is not the key of clientCert (CN=loadwatch load test)']);
  });

  it('names text that is not PEM, a key where a certificate belongs, and an encrypted key', () => {
    const problems = problemsOf({
      target: https,
      clientCert: certificates.client.key,
      clientKey: certificates.encryptedClientKey,
      ca: 'not a certificate',
    });
    expect(problems).toEqual([
      'clientCert: is a PRIVATE KEY, not a CERTIFICATE',
      'clientKey: is encrypted; give the key without its passphrase (openssl pkey -in KEY -out PLAIN)',
      'ca: holds no PEM block (-----BEGIN CERTIFICATE-----)',
    ]);
    const corrupt = certificates.ca.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    expect(problemsOf({ target: https, ca: `${certificates.ca}${corrupt}` })).toEqual([
      expect.stringMatching(/^ca: block 2 is not a valid certificate \(.+\)$/),
    ]);
  });

  it('accepts http2 beside a scenario: its captures and checks read HTTP/2 responses too', () => {
    const scenario = { flows: [{ steps: [{ path: '/ping' }] }] };
    expect(problemsOf({ target: 'http://127.0.0.1:9', http2: true, scenario })).toEqual([]);
    expect(problemsOf({ target: 'http://127.0.0.1:9', scenario })).toEqual([]);
  });

  it('refuses PEM over the cap, flags that are not booleans, and insecure beside a CA', () => {
    const huge = `${certificates.ca}${' '.repeat(MAX_PEM_BYTES)}`;
    expect(problemsOf({ target: https, ca: huge, http2: 'yes', insecure: 1 })).toEqual([
      'http2: must be true or false',
      `ca: is ${(Buffer.byteLength(huge)).toLocaleString('en-US')} bytes, over the cap of 65,536`,
      'insecure: must be true or false',
    ]);
    expect(problemsOf({ target: https, ca: certificates.ca, insecure: true })).toEqual([
      'insecure: skips verification, so ca would never be used; give one or the other',
    ]);
    expect(problemsOf({ target: https, clientCert: 42, clientKey: certificates.client.key })).toEqual([
      "clientCert: must be PEM text (-----BEGIN CERTIFICATE-----…); the CLI's flag reads it from a file",
    ]);
  });
});
