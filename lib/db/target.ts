// Where the database is and how to reach it: built by config, used by the pool, migrations and the stack.

/** verify: TLS checked against the RDS CA bundle; require: TLS without verification; disable: plain TCP. */
export const SSL_MODES = ['verify', 'require', 'disable'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export type DatabaseAuth =
  | { kind: 'url' }
  | { kind: 'iam'; region: string }
  | { kind: 'secret'; secretArn: string; region: string };

export interface DatabaseTarget {
  /** Where this target points, for logs and errors; never holds a password. */
  label: string;
  /** Set when the target came from a connection string (it may hold a password: never log it). */
  url?: string;
  host: string;
  port: number;
  database: string;
  user: string;
  auth: DatabaseAuth;
  ssl: SslMode | 'url';
  via: 'url' | 'proxy' | 'direct';
  /**
   * The RDS CA certificates (lib/db/rds-ca.ts) for DB_SSL=verify on a direct or connection-string target, set by
   * whoever connects that way; RDS Proxy's certificates chain to roots Node already trusts.
   */
  rdsCa?: readonly string[];
}

export type DatabaseConfig =
  | { mode: 'embedded' }
  | {
      mode: 'external';
      api: DatabaseTarget;
      migrations: DatabaseTarget | null;
      /** A read replica (DB_READ_ENDPOINT, DATABASE_READ_URL) for reads that tolerate its lag; absent when none. */
      reader?: DatabaseTarget;
    };
