// @assemblyscript/loader as the Lambda bundles have it: hdr-histogram-js calls it only to instantiate its
// WebAssembly build (initWebAssembly), which loadwatch never does (lib/loadtest/histogram.ts builds JS histograms),
// so serverless.yml (custom.esbuild.alias) builds this module in place of the loader's 7 KiB, and a call names
// what it would have needed.

const NOT_BUILT =
  'hdr-histogram-js WebAssembly histograms are not part of the Lambda bundles: build them with useWebAssembly false';

export async function instantiate(): Promise<never> {
  throw new Error(NOT_BUILT);
}

export function instantiateSync(): never {
  throw new Error(NOT_BUILT);
}
