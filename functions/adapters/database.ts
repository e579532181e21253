// The function's PostgreSQL pool (through RDS Proxy when configured), opened on first use.

import type { Db } from '../../lib/db/pool.ts';
import { createReplicaDb } from '../../lib/db/read-replica.ts';
import type { LambdaEnvironment } from '../environment.ts';

let db: Db | undefined;

/** node:tls only for a replica reached directly: an ES import of it would load it in every cold start. */
const defaultCertificates = () => process.getBuiltinModule('node:tls').getCACertificates('default');

export function lambdaDb({ config, logger }: LambdaEnvironment): Db {
  if (config.database.mode !== 'external') throw new Error('no database configured');
  const { reader } = config.database;
  db ??= createReplicaDb({
    target: config.database.api,
    // A replica's own endpoint presents an RDS CA's certificate: Node trusts the RDS CAs that Lambda's runtime
    // ships once NODE_EXTRA_CA_CERTS names them (serverless.yml), so no bundle travels in the function.
    ...(reader
      ? { reader: reader.via === 'direct' ? { ...reader, rdsCa: defaultCertificates() } : reader }
      : {}),
    onReaderDown: (error) => logger.warn('read replica unavailable; reads go to the writer', { error }),
    pool: config.pool,
    applicationName: `${config.service}-${config.stage}`,
    onIdleError: (error) => logger.warn('idle database connection failed', { error }),
  });
  return db;
}
