// Size of every Lambda bundle, built with esbuild as for deployment, against a bundle of a bare handler.

import { cpSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile, stop } from 'esbuild';
import lambdaBuildPlugins from '../functions/bundle/esbuild-plugins.ts';
import { formatBytes, formatRatio, type Table } from './support/report.ts';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The Lambda build: custom.esbuild of serverless.yml, option for option; keep the two in step. The files are
 * named .mjs here (the package ships .js beside a package.json of type module): the same ES module either way.
 */
export const LAMBDA_BUILD_OPTIONS = {
  bundle: true,
  minify: true,
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  mainFields: ['module', 'main'],
  alias: {
    '@aws-sdk/credential-provider-node': './functions/bundle/aws-credentials.ts',
    jiti: './functions/bundle/sql-migration-loaders.ts',
    glob: './functions/bundle/sql-migration-loaders.ts',
    pako: './functions/bundle/pako-zlib.ts',
    'node:https': './functions/bundle/lazy-https.ts',
  },
  plugins: lambdaBuildPlugins,
  banner: {
    js: "import { createRequire as loadwatchCreateRequire } from 'node:module'; const require = loadwatchCreateRequire(import.meta.url);",
  },
} as const satisfies BuildOptions;

const LARGEST_INPUTS_SHOWN = 6;

export interface BundleSize {
  path: string;
  rawBytes: number;
  gzipBytes: number;
  /** The linked .map deployed beside the bundle. */
  sourceMapBytes: number;
}

export interface BundleInput {
  /** An npm package, or "loadwatch" for the project's own modules. */
  name: string;
  bytes: number;
}

/** Every entry serverless.yml deploys, with the most its bundle may weigh (raw, minified); the worker has none. */
export const FUNCTION_BUNDLES = [
  { entry: 'api', targetKiB: 350 },
  { entry: 'monitor', targetKiB: 500 },
  { entry: 'loadtest-coordinator', targetKiB: 500 },
  { entry: 'migrate', targetKiB: 400 },
  { entry: 'loadtest', targetKiB: undefined },
  { entry: 'loadtest-worker', targetKiB: undefined },
] as const;

export interface FunctionBundle {
  entry: string;
  targetKiB: number | undefined;
  size: BundleSize;
  largestInputs: BundleInput[];
}

export interface BundleResult {
  anchor: BundleSize;
  /** The bare handler wrapped in @middy/core alone: how much the middleware engine itself weighs. */
  middyCore: BundleSize;
  loadwatch: BundleSize;
  ratio: { raw: number; gzip: number };
  /** What the loadwatch bundle is made of, largest first. */
  largestInputs: BundleInput[];
  /** Every function's bundle, the api's included. */
  functions: FunctionBundle[];
}

function packageOf(input: string): string {
  const match = input.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  return match?.[1] ?? 'loadwatch';
}

function largestInputs(metafile: Metafile): BundleInput[] {
  const bytesByPackage = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      bytesByPackage.set(name, (bytesByPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...bytesByPackage]
    .map(([name, bytes]) => ({ name, bytes }))
    .sort((left, right) => right.bytes - left.bytes);
}

async function bundle(entry: string, outfile: string): Promise<{ size: BundleSize; metafile: Metafile }> {
  const result = await build({
    ...LAMBDA_BUILD_OPTIONS,
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [join(PROJECT_ROOT, entry)],
    outfile,
    metafile: true,
    logLevel: 'error',
  });
  const contents = readFileSync(outfile);
  return {
    size: {
      path: outfile,
      rawBytes: contents.length,
      gzipBytes: gzipSync(contents).length,
      sourceMapBytes: statSync(`${outfile}.map`).size,
    },
    metafile: result.metafile,
  };
}

/**
 * Lays out a deployment package in packageDir: functions/api.mjs with migrations/ beside it, as the
 * function reads the migration names from there at cold start, and the two anchors under anchors/.
 */
export async function buildBundles(packageDir: string): Promise<BundleResult> {
  mkdirSync(join(packageDir, 'functions'), { recursive: true });
  cpSync(join(PROJECT_ROOT, 'migrations'), join(packageDir, 'migrations'), { recursive: true });
  try {
    const anchor = await bundle(
      'bench/anchors/bare-handler.ts',
      join(packageDir, 'anchors/bare-handler.mjs'),
    );
    const middyCore = await bundle(
      'bench/anchors/middy-core-handler.ts',
      join(packageDir, 'anchors/middy-core-handler.mjs'),
    );
    const functions: FunctionBundle[] = [];
    for (const { entry, targetKiB } of FUNCTION_BUNDLES) {
      const built = await bundle(`functions/${entry}.ts`, join(packageDir, `functions/${entry}.mjs`));
      functions.push({ entry, targetKiB, size: built.size, largestInputs: largestInputs(built.metafile) });
    }
    const api = functions.find((built) => built.entry === 'api');
    if (!api) throw new Error('no api bundle');
    const loadwatch = api.size;
    return {
      anchor: anchor.size,
      middyCore: middyCore.size,
      loadwatch,
      ratio: {
        raw: loadwatch.rawBytes / anchor.size.rawBytes,
        gzip: loadwatch.gzipBytes / anchor.size.gzipBytes,
      },
      largestInputs: api.largestInputs,
      functions,
    };
  } finally {
    // esbuild keeps a service process alive between builds; the rest of the bench does not need it.
    await stop();
  }
}

export function bundleTable(result: BundleResult): Table {
  const row = (name: string, size: BundleSize) => [
    name,
    formatBytes(size.rawBytes),
    formatBytes(size.gzipBytes),
  ];
  return {
    title: 'API bundle size (esbuild as serverless.yml custom.esbuild: node22 esm, minified)',
    columns: ['bundle', 'raw', 'gzip'],
    rows: [
      row('anchor: bare handler (imports nothing)', result.anchor),
      row('loadwatch: functions/api.ts', result.loadwatch),
      ['ratio', formatRatio(result.ratio.raw), formatRatio(result.ratio.gzip)],
      row('reference: bare handler in @middy/core', result.middyCore),
    ],
    notes: [
      'largest parts of the loadwatch bundle, minified:',
      `  ${result.largestInputs
        .slice(0, LARGEST_INPUTS_SHOWN)
        .map((input) => `${input.name} ${(input.bytes / 1024).toFixed(0)} KiB`)
        .join(', ')}`,
      `each bundle also ships a linked source map: loadwatch ${formatBytes(result.loadwatch.sourceMapBytes)}`,
    ],
  };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

/** "target ≤ 350 KiB · met", or "-" for a bundle without one. */
export function targetVerdict(rawBytes: number, targetKiB: number | undefined): string {
  if (targetKiB === undefined) return '-';
  return `target ≤ ${targetKiB} KiB · ${rawBytes <= targetKiB * 1024 ? 'met' : 'not met'}`;
}

/** Each function's bundle against its target, and the three largest parts of it. */
export function functionBundlesTable(result: BundleResult): Table {
  return {
    title: 'Every function bundle (esbuild as serverless.yml custom.esbuild), against its target',
    columns: ['function', 'raw', 'gzip', 'target (raw)', 'largest parts'],
    rows: result.functions.map(({ entry, targetKiB, size, largestInputs: parts }) => [
      `functions/${entry}.ts`,
      kib(size.rawBytes),
      kib(size.gzipBytes),
      targetVerdict(size.rawBytes, targetKiB),
      parts
        .slice(0, 3)
        .map((part) => `${part.name} ${kib(part.bytes)}`)
        .join(', '),
    ]),
    notes: [`anchor: bare handler ${formatBytes(result.anchor.rawBytes)} raw, built in the same run`],
  };
}
