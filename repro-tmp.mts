import { createApiHandler } from './lib/http/app.ts';
import { createLocalServer } from './lib/local/http-adapter.ts';
import { createLogger } from './lib/log/logger.ts';
const origin = 'http://localhost:5173';
const server = createLocalServer({ handler: createApiHandler({ routes: [], deps: {}, cors: { origins: [origin], credentials: false, maxAgeSeconds: 600 }, logger: createLogger({ level: 'error' }) }) });
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const port = (server.address() as { port: number }).port;
for (const size of [2 * 1024 * 1024, 11 * 1024 * 1024]) {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { method: 'POST', headers: { Origin: origin }, body: 'x'.repeat(size) });
  console.log(size, res.status, 'ACAO=', res.headers.get('access-control-allow-origin'), 'vary=', res.headers.get('vary'), await res.text());
}
server.close(); server.closeAllConnections();
