// node:https, loaded by its first use rather than at import: the SDK's HTTP handler (@smithy/node-http-handler)
// and lib/aws/client.ts import it at the top of their modules, which a bundle hoists to its own top, so every
// cold start paid for https, tls, net and http (about 5 ms of the api's import) before any AWS call. serverless.yml (custom.esbuild.alias)
// builds this module in place of node:https. The SDK reads members of the default export (https.Agent,
// https.request), which a proxy forwards; our own code imports request. A named import this module lacks fails
// the build, naming it: add a forwarding function here, or import the default export.

import type * as Https from 'node:https';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let https: typeof Https | undefined;
const load = () => (https ??= require('node:https') as typeof Https);

export default new Proxy({} as typeof Https, {
  get: (_target, member) => Reflect.get(load(), member),
});

export const request = ((...args: Parameters<typeof Https.request>) =>
  load().request(...args)) as typeof Https.request;

export const get = ((...args: Parameters<typeof Https.get>) => load().get(...args)) as typeof Https.get;
