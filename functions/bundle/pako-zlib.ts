// pako's inflate and deflate on node:zlib, for hdr-histogram-js in the Lambda bundles: it calls pako only to
// unpack its WebAssembly build, which loadwatch never loads (lib/loadtest/histogram.ts builds JS histograms), and
// node:zlib reads and writes the same zlib format, so serverless.yml (custom.esbuild.alias) builds this module in
// place of pako's ~47 KiB.

import { deflateSync, inflateSync } from 'node:zlib';

export function inflate(data: Uint8Array): Uint8Array {
  return new Uint8Array(inflateSync(data));
}

export function deflate(data: Uint8Array): Uint8Array {
  return new Uint8Array(deflateSync(data));
}
