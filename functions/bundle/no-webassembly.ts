// hdr-histogram-js's WebAssembly build (its dist/wasm module: the wasm binary in base64, its loader and pako's
// inflate, ~51 KiB) as the Lambda bundles have it: absent. loadwatch builds JS histograms (lib/loadtest/histogram.ts,
// useWebAssembly false), so the Lambda build (functions/bundle/esbuild-plugins.ts) resolves that module here, where
// hdr-histogram-js finds WebAssembly unavailable, as in a runtime without it, and an explicit use names the build.

const NOT_BUILT =
  'hdr-histogram-js WebAssembly histograms are not part of the Lambda bundles: build them with useWebAssembly false';

export const webAssemblyAvailable = false;

export const webAssemblyReady = () => false;

export async function initWebAssembly(): Promise<never> {
  throw new Error(NOT_BUILT);
}

export function initWebAssemblySync(): never {
  throw new Error(NOT_BUILT);
}

/** hdr-histogram-js extends its prototype and tests histograms against it; no instance is ever made. */
// biome-ignore lint/complexity/noStaticOnlyClass: hdr-histogram-js needs a class here (prototype, instanceof).
export class WasmHistogram {
  static build(): never {
    throw new Error(NOT_BUILT);
  }

  static decode(): never {
    throw new Error(NOT_BUILT);
  }
}
