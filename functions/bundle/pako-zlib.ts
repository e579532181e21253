// pako's inflate and deflate on node:zlib, for hdr-histogram-js in the Lambda bundles: it falls back to pako
// where node:zlib is missing (never on Node), and unpacked its WebAssembly build with it (left out of the bundles,
// functions/bundle/no-webassembly.ts). node:zlib reads and writes the same zlib format, so serverless.yml
// (custom.esbuild.alias) builds this module in place of pako's ~47 KiB.

import { deflateSync, inflateSync } from 'node:zlib';

export function inflate(data: Uint8Array): Uint8Array {
  return new Uint8Array(inflateSync(data));
}

export function deflate(data: Uint8Array): Uint8Array {
  return new Uint8Array(deflateSync(data));
}
