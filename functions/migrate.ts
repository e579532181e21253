// Migrate Lambda: {"action":"up"|"down"|"status","count"?:N,"all"?:true} against the direct database endpoint.

import { migrateCommand, parseMigrateRequest } from '../lib/db/migrate-command.ts';
import { lambdaDeps } from './deps.ts';

export const handler = async (event: unknown) => {
  const { config, logger } = lambdaDeps();
  const request = parseMigrateRequest(event);
  return migrateCommand(config, request, (line) => logger.info(line));
};
