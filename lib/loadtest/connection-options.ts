// How the engine connects to the target: HTTP/2, a client certificate, a private CA, or no verification at all.

import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import * as v from 'valibot';
import { issueLines } from '../validation/issues.ts';

/** Largest PEM text accepted per field: every shard reads the run's options, these included. */
export const MAX_PEM_BYTES = 64 * 1024;

export interface TargetConnection {
  /** HTTP/2: negotiated by ALPN over TLS, with prior knowledge (h2c) over plain http. */
  http2: boolean;
  /** PEM: the certificate (and its chain) presented to a target that asks for one, with its key. */
  clientCert?: string;
  clientKey?: string;
  /** PEM: the certificates trusted for the target, instead of Node's bundled roots. */
  ca?: string;
  /** The target's certificate is not verified at all: reported as a warning with every result. */
  insecure: boolean;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

const pem = (what: string) =>
  v.pipe(
    v.string(`must be PEM text (${what}); the CLI's flag reads it from a file`),
    v.check(
      (text) => Buffer.byteLength(text) <= MAX_PEM_BYTES,
      (issue) =>
        `is ${Buffer.byteLength(issue.input as string).toLocaleString('en-US')} bytes, over the cap of ${MAX_PEM_BYTES.toLocaleString('en-US')}`,
    ),
  );

/** The connection fields' own schemas, one entry each in the load-test input. */
export const connectionFields = {
  http2: v.optional(
    v.pipe(
      v.boolean('must be true or false'),
      v.description('HTTP/2: ALPN over TLS, prior knowledge over http.'),
    ),
  ),
  clientCert: v.optional(
    v.pipe(
      pem('-----BEGIN CERTIFICATE-----…'),
      v.description('PEM client certificate, for targets that ask for one.'),
    ),
  ),
  clientKey: v.optional(v.pipe(pem('-----BEGIN PRIVATE KEY-----…'), v.description('PEM key of clientCert.'))),
  ca: v.optional(
    v.pipe(
      pem('-----BEGIN CERTIFICATE-----…, one or more'),
      v.description('PEM certificates trusted for the target.'),
    ),
  ),
  insecure: v.optional(
    v.pipe(
      v.boolean('must be true or false'),
      v.description('Do not verify the target certificate (warned).'),
    ),
  ),
};

const SCHEMA = v.object(connectionFields);

/** Each certificate of a PEM text, or why one is not a certificate. */
function certificates(text: string): { certificates: X509Certificate[] } | { problem: string } {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) return { problem: 'holds no PEM block (-----BEGIN CERTIFICATE-----)' };
  const parsed: X509Certificate[] = [];
  for (const [index, block] of blocks.entries()) {
    const label = block[1];
    const which = blocks.length > 1 ? `block ${index + 1} ` : '';
    if (label !== 'CERTIFICATE') return { problem: `${which}is a ${label}, not a CERTIFICATE` };
    try {
      parsed.push(new X509Certificate(block[0]));
    } catch (error) {
      return { problem: `${which}is not a valid certificate (${(error as Error).message})` };
    }
  }
  return { certificates: parsed };
}

function privateKey(text: string): { key: KeyObject } | { problem: string } {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text))
    return { problem: 'is encrypted; give the key without its passphrase (openssl pkey -in KEY -out PLAIN)' };
  try {
    return { key: createPrivateKey(text) };
  } catch (error) {
    return { problem: `is not a PEM private key (${(error as Error).message})` };
  }
}

/**
 * Reads the connection fields of a load-test input. `https` says whether the target is https (undefined when the
 * target itself is wrong): certificates mean nothing to plain http. `failed` names fields that failed their own
 * schema already. Problems are "field: message" lines.
 */
export function parseTargetConnection(
  input: Record<string, unknown>,
  https: boolean | undefined,
  failed: ReadonlySet<string> = new Set(),
): { connection?: TargetConnection; problems: string[] } {
  // The schema reads its own fields and leaves out the input's others.
  const result = v.safeParse(SCHEMA, input);
  if (!result.success) return { problems: issueLines(result.issues, SCHEMA) };
  const { http2 = false, clientCert, clientKey, ca, insecure = false } = result.output;
  const problems: string[] = [];
  const add = (field: string, message: string) => problems.push(`${field}: ${message}`);
  if (https === false)
    for (const field of ['clientCert', 'clientKey', 'ca', 'insecure'] as const)
      if (result.output[field] !== undefined) add(field, 'applies to https targets only');
  /** The field's PEM text read, or undefined when it is absent or wrong (its problem added). */
  const read = <Read extends object>(
    field: string,
    text: string | undefined,
    parse: (text: string) => Read | { problem: string },
  ): Read | undefined => {
    const parsed = text === undefined ? undefined : parse(text);
    if (parsed && 'problem' in parsed) add(field, parsed.problem);
    else return parsed;
  };
  const certificate = read('clientCert', clientCert, certificates)?.certificates[0];
  const key = read('clientKey', clientKey, privateKey)?.key;
  // A field that failed its own schema is given, only wrong: its own message says so.
  if (clientCert !== undefined && clientKey === undefined && !failed.has('clientKey'))
    add('clientKey', 'is required with clientCert');
  if (clientKey !== undefined && clientCert === undefined && !failed.has('clientCert'))
    add('clientCert', 'is required with clientKey');
  if (certificate && key && !certificate.checkPrivateKey(key))
    add('clientKey', `is not the key of clientCert (${certificate.subject.replaceAll('\n', ', ')})`);
  read('ca', ca, certificates);
  if (insecure && ca !== undefined)
    add('insecure', 'skips verification, so ca would never be used; give one or the other');
  if (problems.length > 0) return { problems };
  if (!http2 && !insecure && clientCert === undefined && ca === undefined) return { problems };
  return {
    connection: {
      http2,
      ...(clientCert === undefined ? {} : { clientCert, clientKey }),
      ...(ca === undefined ? {} : { ca }),
      insecure,
    },
    problems,
  };
}

/** What the report says of a run's connections: no PEM text, only what was used. */
export interface ConnectionSummary {
  protocol: 'HTTP/1.1' | 'HTTP/2';
  /** verified: against Node's roots or the run's own CA; skipped: --insecure; none: plain http. */
  certificateVerification: 'verified' | 'verified against the given CA' | 'skipped' | 'none';
  clientCertificate: boolean;
}

export const INSECURE_WARNING =
  "the target's TLS certificate was not verified (insecure): anyone between the workers and the target could have answered these requests";

export function summarizeConnection(
  target: string,
  connection: TargetConnection | undefined,
): ConnectionSummary {
  const https = target.startsWith('https:');
  return {
    protocol: connection?.http2 ? 'HTTP/2' : 'HTTP/1.1',
    certificateVerification: !https
      ? 'none'
      : connection?.insecure
        ? 'skipped'
        : connection?.ca !== undefined
          ? 'verified against the given CA'
          : 'verified',
    clientCertificate: connection?.clientCert !== undefined,
  };
}
