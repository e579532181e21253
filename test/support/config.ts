// What loadConfig refuses in an environment, for the tests of each group of settings.

import { ConfigError, loadConfig } from '../../lib/config/config.ts';

/** The problems loadConfig reports for `env`; fails when it accepts the environment or throws anything else. */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
