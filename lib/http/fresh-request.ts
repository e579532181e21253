// One HTTP request on a connection of its own (node:http, no pool), so no socket outlives the probe that opened it.

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface FreshRequestOptions {
  method: string;
  headers?: Record<string, string>;
  /** Aborts the request and its response body alike. */
  signal?: AbortSignal;
}

/** Resolves with the response once its headers arrive; a redirect is an answer like any other, never followed. */
export function freshRequest(url: string, options: FreshRequestOptions): Promise<IncomingMessage> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      target,
      { method: options.method, headers: options.headers, agent: false, signal: options.signal },
      resolve,
    );
    request.on('error', reject);
    request.end();
  });
}
