import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { LAMBDA_POOL_DEFAULTS, SERVER_POOL_DEFAULTS } from '../../lib/db/pool-settings.ts';
import { configProblems } from '../support/config.ts';

describe('loadConfig', () => {
  it('uses the local-server defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.runtime).toBe('server');
    expect(config.stage).toBe('local');
    expect(config.port).toBe(3000);
    expect(config.database).toEqual({ mode: 'embedded' });
    expect(config.pool).toEqual(SERVER_POOL_DEFAULTS);
    expect(config.pool).toMatchObject({
      size: 20,
      maxOverflow: 40,
      recycleSeconds: 3600,
      timeoutSeconds: 15,
      statementTimeoutMs: 10_000,
    });
    expect(config.timeouts).toEqual({ handlerTimeoutMs: 25_000, readinessTimeoutMs: 2000 });
    expect(config.cors).toEqual({ origins: [], credentials: false, maxAgeSeconds: 600 });
  });

  it('uses one connection per container on Lambda', () => {
    const config = loadConfig({
      AWS_LAMBDA_FUNCTION_NAME: 'api',
      DATABASE_URL: 'postgres://u:p@db:5432/app',
    });
    expect(config.runtime).toBe('lambda');
    expect(config.pool).toEqual(LAMBDA_POOL_DEFAULTS);
    expect(config.pool.size + config.pool.maxOverflow).toBe(1);
  });

  it('reads the pool knobs with their units', () => {
    const config = loadConfig({
      DB_POOL_SIZE: '5',
      DB_MAX_OVERFLOW: '10',
      DB_POOL_RECYCLE: '600',
      DB_POOL_TIMEOUT: '2',
      DB_STATEMENT_TIMEOUT: '1500',
    });
    expect(config.pool).toEqual({
      size: 5,
      maxOverflow: 10,
      recycleSeconds: 600,
      timeoutSeconds: 2,
      statementTimeoutMs: 1500,
    });
  });

  it('refuses timeouts that do not nest: statement < pool wait < handler < the gateway', () => {
    expect(configProblems({ DB_STATEMENT_TIMEOUT: '12000', DB_POOL_TIMEOUT: '10' })).toEqual([
      'DB_STATEMENT_TIMEOUT: 12000 ms must be under DB_POOL_TIMEOUT (10000 ms), so that a request waiting for a connection outlasts one stuck statement',
    ]);
    expect(configProblems({ DB_POOL_TIMEOUT: '30' })).toEqual([
      'DB_POOL_TIMEOUT: 30000 ms must be under API_HANDLER_TIMEOUT (25000 ms), so that a saturated pool answers 503 before the handler gives up',
    ]);
    expect(
      configProblems({
        AWS_LAMBDA_FUNCTION_NAME: 'api',
        DATABASE_URL: 'postgres://u:p@db:5432/app',
        API_HANDLER_TIMEOUT: '29000',
        READINESS_TIMEOUT: '30000',
      }),
    ).toEqual([
      "API_HANDLER_TIMEOUT: 29000 ms must be under API Gateway's 29000 ms, so that the API answers 503 itself",
      'READINESS_TIMEOUT: 30000 ms must be under API_HANDLER_TIMEOUT (29000 ms)',
    ]);
    for (const env of [{}, { AWS_LAMBDA_FUNCTION_NAME: 'api', DATABASE_URL: 'postgres://u:p@db:5432/app' }]) {
      const { pool, timeouts } = loadConfig(env);
      expect(pool.statementTimeoutMs).toBeLessThan(pool.timeoutSeconds * 1000);
      expect(pool.timeoutSeconds * 1000).toBeLessThan(timeouts.handlerTimeoutMs);
      expect(timeouts.handlerTimeoutMs).toBeLessThan(29_000);
    }
  });

  it('reports every problem at once, one line each, naming the variable', () => {
    const problems = configProblems({
      CORS_ORIGINS: 'htp:/x, https://ok.example.com',
      CORS_MAX_AGE: 'soon',
      DB_POOL_SIZE: '0',
      DB_POOL_TIMEOUT: 'abc',
      PORT: '70000',
      LOG_LEVEL: 'loud',
    });
    expect(problems).toEqual([
      'LOG_LEVEL: "loud" is not one of debug, info, warn, error',
      'PORT: 70000 is out of range (1 to 65535)',
      'CORS_ORIGINS: "htp:/x" is not an origin (scheme://host[:port])',
      'CORS_MAX_AGE: "soon" is not a whole number of seconds',
      'DB_POOL_SIZE: 0 is out of range (1 to 1000 connections)',
      'DB_POOL_TIMEOUT: "abc" is not a whole number of seconds',
    ]);
  });

  it('refuses "*" with credentials', () => {
    expect(configProblems({ CORS_ORIGINS: '*', CORS_CREDENTIALS: 'true' })[0]).toMatch(
      /^CORS_ORIGINS: "\*" cannot be used with CORS_CREDENTIALS=true/,
    );
    expect(loadConfig({ CORS_ORIGINS: '*' }).cors.origins).toEqual(['*']);
  });

  it('normalises origins and treats an empty list as no cross-origin access', () => {
    expect(
      loadConfig({ CORS_ORIGINS: 'https://App.Example.com, http://localhost:5173,' }).cors.origins,
    ).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(loadConfig({ CORS_ORIGINS: ' ' }).cors.origins).toEqual([]);
    expect(configProblems({ CORS_ORIGINS: 'https://app.example.com/' })).toEqual([
      'CORS_ORIGINS: "https://app.example.com/" is not an origin (scheme://host[:port])',
    ]);
  });

  it('reads CORS_ALLOW_HEADERS and CORS_EXPOSE_HEADERS as header-name lists, unset by default', () => {
    expect(loadConfig({}).cors.allowHeaders).toBeUndefined();
    expect(loadConfig({}).cors.exposeHeaders).toBeUndefined();
    expect(
      loadConfig({
        CORS_ALLOW_HEADERS: 'Authorization, x-api-key,X-API-Key,',
        CORS_EXPOSE_HEADERS: 'X-Request-Id',
      }).cors,
    ).toMatchObject({ allowHeaders: ['Authorization', 'x-api-key'], exposeHeaders: ['X-Request-Id'] });
    expect(configProblems({ CORS_ALLOW_HEADERS: 'X-Ok, bad header, *', CORS_EXPOSE_HEADERS: 'a:b' })).toEqual(
      [
        `CORS_ALLOW_HEADERS: "bad header" is not a header name (letters, digits and !#$%&'*+-.^_\`|~)`,
        'CORS_ALLOW_HEADERS: "*" is not accepted; list the header names, or leave CORS_ALLOW_HEADERS unset for the headers each preflight asks for',
        `CORS_EXPOSE_HEADERS: "a:b" is not a header name (letters, digits and !#$%&'*+-.^_\`|~)`,
      ],
    );
  });

  it('builds proxy and direct targets for RDS with IAM auth', () => {
    const config = loadConfig({
      AWS_LAMBDA_FUNCTION_NAME: 'api',
      AWS_REGION: 'eu-west-1',
      DB_PROXY_ENDPOINT: 'loadwatch.proxy-abc.eu-west-1.rds.amazonaws.com',
      DB_DIRECT_ENDPOINT: 'loadwatch.abc.eu-west-1.rds.amazonaws.com',
      DB_NAME: 'loadwatch',
      DB_USER: 'loadwatch_api',
      DB_IAM_AUTH: 'true',
    });
    if (config.database.mode !== 'external') throw new Error('expected an external database');
    expect(config.database.api).toMatchObject({
      via: 'proxy',
      ssl: 'verify',
      auth: { kind: 'iam', region: 'eu-west-1' },
    });
    expect(config.database.migrations).toMatchObject({
      via: 'direct',
      host: 'loadwatch.abc.eu-west-1.rds.amazonaws.com',
    });
  });

  it('names what RDS settings are missing', () => {
    expect(
      configProblems({ AWS_LAMBDA_FUNCTION_NAME: 'api', DB_PROXY_ENDPOINT: 'proxy.example.com' }),
    ).toEqual([
      'DB_NAME: is required with DB_PROXY_ENDPOINT',
      'DB_USER: is required with DB_PROXY_ENDPOINT',
      'DB_IAM_AUTH: or DB_SECRET_ARN is required with DB_PROXY_ENDPOINT',
    ]);
    expect(configProblems({ AWS_LAMBDA_FUNCTION_NAME: 'api' })).toEqual([
      'DATABASE_URL: or DB_PROXY_ENDPOINT is required on Lambda (there is no embedded database)',
    ]);
  });

  it('rejects a pool larger than two per Lambda container', () => {
    expect(
      configProblems({
        AWS_LAMBDA_FUNCTION_NAME: 'api',
        DATABASE_URL: 'postgres://db/app',
        DB_POOL_SIZE: '5',
      })[0],
    ).toMatch(/^DB_POOL_SIZE: 5 \+ DB_MAX_OVERFLOW 0 is over 2 connections per Lambda container/);
  });

  it('rejects a DATABASE_URL that is not PostgreSQL', () => {
    expect(configProblems({ DATABASE_URL: 'mysql://db/app' })).toEqual([
      'DATABASE_URL: scheme "mysql" is not postgres or postgresql',
    ]);
  });
});
