// The esbuild plugins of the Lambda build: serverless.yml (custom.esbuild.plugins) loads this file, and
// bench/bundle.ts builds with the same list.

import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

const NO_WEBASSEMBLY = fileURLToPath(new URL('./no-webassembly.ts', import.meta.url));

/** hdr-histogram-js's `require("./wasm")`, from its own files only, resolves to no-webassembly.ts. */
export const hdrHistogramWithoutWebAssembly: Plugin = {
  name: 'hdr-histogram-js-without-webassembly',
  setup(build) {
    build.onResolve({ filter: /^\.\/wasm$/ }, (args) =>
      /[\\/]node_modules[\\/]hdr-histogram-js[\\/]dist[\\/]/.test(args.importer)
        ? { path: NO_WEBASSEMBLY }
        : undefined,
    );
  },
};

export default [hdrHistogramWithoutWebAssembly];
