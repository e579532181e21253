// Migrate Lambda: {"action":"up"|"down"|"status","count"?:N,"all"?:true} against the direct database endpoint.

import type { Context } from 'aws-lambda';
import { migrateCommand, parseMigrateRequest } from '../lib/db/migrate-command.ts';
import { invocationLogFields } from '../lib/log/lambda-context.ts';
import { lambdaEnvironment } from './environment.ts';

const { config, logger } = lambdaEnvironment();
const logFields = invocationLogFields(config.traceHeader);

export const handler = async (event: unknown, context: Context) => {
  const request = parseMigrateRequest(event);
  const log = logger.child(logFields(context));
  return migrateCommand(config, request, (line) => log.info(line));
};
