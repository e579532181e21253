import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../lib/http/app.ts';
import { HttpError } from '../../lib/http/errors.ts';
import { createRouter, type Route } from '../../lib/http/router.ts';
import { createLogger } from '../../lib/log/logger.ts';
import { gatewayEvent, lambdaContext } from '../support/gateway-event.ts';

const answer = (name: string) => () => ({ status: 200, body: { route: name } });

const ROUTES: Route<undefined>[] = [
  { method: 'GET', path: '/loadtests', handler: answer('list') },
  { method: 'POST', path: '/loadtests', handler: answer('create') },
  { method: 'GET', path: '/loadtests/{id}', handler: answer('show') },
  { method: 'DELETE', path: '/loadtests/{id}', handler: answer('delete') },
  { method: 'GET', path: '/loadtests/{id}/report.html', handler: answer('report') },
  { method: 'POST', path: '/checks/{check}/holds/{hold}', handler: answer('hold') },
];

const router = createRouter(ROUTES);

function found(method: string, path: string) {
  const match = router.match(method, path);
  if (match.kind !== 'found') throw new Error(`expected a route for ${method} ${path}, got ${match.kind}`);
  return match;
}

describe('createRouter', () => {
  it('picks the route whose method and path both match when several share a path', () => {
    expect(found('GET', '/loadtests').route.handler).toBe(ROUTES[0]?.handler);
    expect(found('POST', '/loadtests').route.handler).toBe(ROUTES[1]?.handler);
    expect(found('DELETE', '/loadtests/abc').route.path).toBe('/loadtests/{id}');
  });

  it('accepts one trailing slash when the path otherwise matches', () => {
    expect(found('GET', '/loadtests/').route.path).toBe('/loadtests');
    expect(router.match('GET', '/loadtests//').kind).toBe('not-found');
  });

  it('hands each {name} segment over as a parameter when the route has several', () => {
    expect(found('POST', '/checks/health/holds/42').params).toEqual({ check: 'health', hold: '42' });
  });

  it('percent-decodes a parameter when the segment is escaped', () => {
    expect(found('GET', '/loadtests/run%20one').params).toEqual({ id: 'run one' });
    expect(found('GET', '/loadtests/caf%C3%A9').params).toEqual({ id: 'café' });
  });

  it('matches a parameter to one segment only when the path has more below it', () => {
    expect(found('GET', '/loadtests/abc/report.html').route.path).toBe('/loadtests/{id}/report.html');
    expect(router.match('GET', '/loadtests/abc/def').kind).toBe('not-found');
    expect(router.match('GET', '/loadtests//report.html').kind).toBe('not-found');
  });

  it('treats the dot of a literal segment as a dot, not as any character', () => {
    expect(router.match('GET', '/loadtests/abc/reportxhtml').kind).toBe('not-found');
  });

  it('answers not-found when no route has the path, whatever the method', () => {
    expect(router.match('GET', '/nothing')).toEqual({ kind: 'not-found' });
    expect(router.match('POST', '/loadtest')).toEqual({ kind: 'not-found' });
  });

  it('answers method-not-allowed with each allowed method once when the path exists but the method does not', () => {
    expect(router.match('PUT', '/loadtests/abc')).toEqual({
      kind: 'method-not-allowed',
      allowed: ['GET', 'DELETE'],
      pattern: '/loadtests/{id}',
    });
    const duplicated = createRouter<undefined>([
      { method: 'GET', path: '/a/{x}', handler: answer('one') },
      { method: 'GET', path: '/a/{y}', handler: answer('two') },
    ]);
    expect(duplicated.match('PATCH', '/a/1')).toMatchObject({ allowed: ['GET'] });
  });

  it('serves HEAD from the GET route when the path has one, and refuses it when it has none', () => {
    expect(found('HEAD', '/loadtests/abc').route.handler).toBe(ROUTES[2]?.handler);
    expect(router.match('HEAD', '/checks/health/holds/1')).toEqual({
      kind: 'method-not-allowed',
      allowed: ['POST'],
      pattern: '/checks/{check}/holds/{hold}',
    });
  });

  it('leaves OPTIONS unmatched when a path has routes, since preflights are answered before routing', () => {
    expect(router.match('OPTIONS', '/loadtests')).toMatchObject({
      kind: 'method-not-allowed',
      allowed: ['GET', 'POST'],
    });
  });

  it('throws a 400 naming the segment when a parameter is malformed percent-encoding', () => {
    const error = (() => {
      try {
        router.match('GET', '/loadtests/%E0%A4%A');
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({
      status: 400,
      message: 'the path segment "%E0%A4%A" is not valid percent-encoding',
    });
  });

  it('throws a 400 when a parameter decodes to a control character', () => {
    expect(() => router.match('GET', '/loadtests/a%00b')).toThrow(
      'the path segment "a%00b" holds a control character',
    );
    expect(() => router.match('GET', '/loadtests/a%0Ab')).toThrow(HttpError);
  });
});

describe('createApiHandler routing', () => {
  const handler = createApiHandler({
    routes: ROUTES,
    deps: undefined,
    cors: { origins: ['https://app.example.com'], credentials: false, maxAgeSeconds: 60 },
    logger: createLogger({ write: () => undefined }),
  });
  const call = (method: string, path: string) =>
    handler(gatewayEvent({ method, path }), lambdaContext(10_000));

  it('answers 404 without an Allow header when no route has the path', async () => {
    const response = await call('GET', '/nothing');
    expect(response.statusCode).toBe(404);
    expect(response.headers?.Allow).toBeUndefined();
  });

  it('answers 405 with Allow when the path exists but the method does not', async () => {
    const response = await call('PUT', '/loadtests/abc');
    expect(response.statusCode).toBe(405);
    expect(response.headers?.Allow).toBe('GET, DELETE, OPTIONS');
  });

  it('answers 204 with every CORS method in Allow when the request is OPTIONS, for any path', async () => {
    for (const path of ['/loadtests', '/nothing']) {
      const response = await call('OPTIONS', path);
      expect(response.statusCode).toBe(204);
      expect(response.headers?.Allow).toBe('GET, POST, PUT, PATCH, DELETE, OPTIONS');
    }
  });

  it('answers a HEAD request through the GET route when the path has one', async () => {
    const response = await call('HEAD', '/loadtests/abc');
    expect(response.statusCode).toBe(200);
  });
});
