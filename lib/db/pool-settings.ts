// Pool defaults by runtime, and the sizing guidance that goes with them.

export interface PoolSettings {
  /** Connections kept open (DB_POOL_SIZE). */
  size: number;
  /** Extra connections allowed in a burst, closed again once idle (DB_MAX_OVERFLOW). */
  maxOverflow: number;
  /** Maximum lifetime of a connection in seconds; 0 keeps connections forever (DB_POOL_RECYCLE). */
  recycleSeconds: number;
  /** Longest wait for a connection in seconds, before the request fails with 503 (DB_POOL_TIMEOUT). */
  timeoutSeconds: number;
  /** Server-side limit for one statement in milliseconds; 0 disables it (DB_STATEMENT_TIMEOUT). */
  statementTimeoutMs: number;
}

/**
 * One Lambda container serves one request at a time, and RDS Proxy multiplexes the connections of every
 * container onto a small set of database connections: one connection per container is all that helps.
 * Recycling after 15 minutes also keeps IAM-authenticated connections within their token's life.
 */
export const LAMBDA_POOL_DEFAULTS: PoolSettings = {
  size: 1,
  maxOverflow: 0,
  recycleSeconds: 900,
  timeoutSeconds: 10,
  statementTimeoutMs: 8000,
};

/** The long-running local server handles many requests at once against its own database. */
export const SERVER_POOL_DEFAULTS: PoolSettings = {
  size: 20,
  maxOverflow: 40,
  recycleSeconds: 3600,
  timeoutSeconds: 15,
  statementTimeoutMs: 10_000,
};

// Recommended settings by scale. The proxy opens at most MaxConnectionsPercent of the database's
// max_connections; Lambda can open reserved concurrency × (size + overflow) client connections to the proxy.
//
// | scale  | reserved concurrency | DB_POOL_SIZE + OVERFLOW | proxy MaxConnectionsPercent | instance (max_connections) |
// |--------|----------------------|-------------------------|-----------------------------|----------------------------|
// | small  | 10                   | 1 + 0                   | 50                          | db.t4g.micro (~80)         |
// | medium | 100                  | 1 + 0                   | 75                          | db.m7g.large (~850)        |
// | large  | 1000                 | 1 + 0 (2 + 0 at most)   | 90                          | db.r7g.2xlarge (5000)      |
//
// - small: ten containers need ten client connections; half the database's connections is enough and leaves
//   room for migrations and an operator's psql session.
// - medium: 100 client connections; the proxy shares at most ~640 backends (75% of ~850) among them.
//   (RDS sets max_connections to LEAST(DBInstanceClassMemory / 9531392, 5000) by default.)
// - large: thousands of client connections fan in; raise MaxConnectionsPercent and watch
//   DatabaseConnectionsCurrentlySessionPinned stay at zero, since a pinned session defeats the sharing.
