import { createApi } from '../lib/api/create-api.ts';
import { loadConfig } from '../lib/config/config.ts';
import { createLogger } from '../lib/log/logger.ts';
import { LAMBDA_ENV, lambdaContext, notFoundEvent } from './support/lambda-invocation.ts';

const config = loadConfig(LAMBDA_ENV);
const h = createApi({
  config,
  db: {} as never,
  logger: createLogger({ write: () => {} }),
  knownMigrations: [],
});
const ev = notFoundEvent();
const ctx = lambdaContext();
for (let r = 0; r < 8; r++) {
  const s = performance.now();
  for (let i = 0; i < 20000; i++) await h(ev, ctx);
  console.log((((performance.now() - s) * 1e6) / 20000).toFixed(0));
}
const e0 = performance.now();
for (let i = 0; i < 20000; i++) {
  new Error('x');
}
console.log('new Error ns', (((performance.now() - e0) * 1e6) / 20000).toFixed(0));
