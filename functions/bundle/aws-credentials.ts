// The credentials every AWS client in a Lambda bundle signs with: the execution role's, which Lambda puts in the
// environment. serverless.yml (custom.esbuild.alias) builds this module in place of the SDK's default chain, whose
// profile, SSO, web-identity, process and instance-metadata providers, with the STS and SSO clients behind them,
// a function never reaches. `sls invoke local` exports the profile's credentials into the same variables.

import { fromEnv } from '@aws-sdk/credential-provider-env';
import { CredentialsProviderError } from '@smithy/core/config';

type ProviderInit = NonNullable<Parameters<typeof fromEnv>[0]>;

/** The SDK clients call it as they call the chain's defaultProvider, with their configuration. */
export function defaultProvider(init: ProviderInit = {}): ReturnType<typeof fromEnv> {
  const fromEnvironment = fromEnv(init);
  return async () => {
    try {
      return await fromEnvironment();
    } catch {
      throw new CredentialsProviderError(
        'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: a Lambda bundle signs with the execution ' +
          "role's credentials, which Lambda (or `sls invoke local`, from the profile) puts there",
        { logger: init.logger, tryNextLink: false },
      );
    }
  };
}
