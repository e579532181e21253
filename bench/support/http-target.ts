// The load benches' target, run in its own process: a node:http server (or https, or HTTP/2) answering a small
// JSON body, optionally after an injected delay and with one stall of its whole event loop.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2cServer, createSecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TargetBehaviour, TargetCommand, TargetReport } from './target-process.ts';

const BODY = JSON.stringify({ status: 'ok', service: 'loadwatch-bench' });
const HEADERS = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(BODY)) };

const send = (message: TargetReport) => process.send?.(message);

const behaviour = JSON.parse(process.argv[2] ?? '{}') as TargetBehaviour;
const delays = behaviour.delaysMs ?? [];
const recordHandling = delays.length > 0;

let requests = 0;
let handlingMs: number[] = [];

function freeze(milliseconds: number): void {
  // Synchronous on purpose: a pause of the whole process (a long GC, a blocking call), not a slow handler.
  const until = performance.now() + milliseconds;
  while (performance.now() < until) {}
}

const handle = (_request: unknown, response: ServerResponse) => {
  const arrivedAt = performance.now();
  requests += 1;
  if (requests === behaviour.stallAtRequest) freeze(behaviour.stallMs ?? 0);
  const answer = () => {
    response.writeHead(200, HEADERS);
    response.end(BODY);
    if (recordHandling) handlingMs.push(performance.now() - arrivedAt);
  };
  // The n-th request gets the n-th delay of the cycle, so the mix is exact whatever the concurrency.
  const delay = delays.length > 0 ? (delays[(requests - 1) % delays.length] ?? 0) : 0;
  if (delay > 0) setTimeout(answer, delay);
  else answer();
};
const { tls, http2 } = behaviour;
const server = http2
  ? tls
    ? createSecureServer({ ...tls, allowHTTP1: true }, handle as never)
    : createH2cServer(handle as never)
  : tls
    ? createHttpsServer(tls, handle as (request: IncomingMessage, response: ServerResponse) => void)
    : createServer(handle as (request: IncomingMessage, response: ServerResponse) => void);
if ('keepAliveTimeout' in server) server.keepAliveTimeout = 30_000;

process.on('message', (command: TargetCommand) => {
  if (command.type === 'snapshot') {
    const cpu = process.cpuUsage();
    send({
      type: 'snapshot',
      requests,
      cpuMicros: cpu.user + cpu.system,
      handlingMs,
    });
    handlingMs = [];
  } else if (command.type === 'reset') {
    requests = 0;
    handlingMs = [];
    send({ type: 'reset' });
  }
});
// The parent is gone (finished, killed, crashed): nothing is left to serve.
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  send({ type: 'listening', port: (server.address() as AddressInfo).port });
});
