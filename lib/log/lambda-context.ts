// The fields every log line of one Lambda invocation carries: its request id, whether it is the cold start, its trace.

import type { Context } from 'aws-lambda';
import type { LogFields } from './logger.ts';

/** "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1" → "1-5759e988-…". */
export function xrayTraceId(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const root = header.split(';').find((part) => part.startsWith('Root='));
  return root ? root.slice('Root='.length) : undefined;
}

/**
 * Fields for each invocation of one container, as Powertools Logger's injectLambdaContext adds them: the first
 * invocation is the cold start, every later one is warm.
 */
export function invocationLogFields(
  traceHeader: () => string | undefined,
): (context: Pick<Context, 'awsRequestId'> | undefined) => LogFields {
  let invocations = 0;
  return (context) => {
    invocations += 1;
    const traceId = xrayTraceId(traceHeader());
    return {
      // A direct call (a script, a test) may pass no context at all.
      ...(context?.awsRequestId ? { awsRequestId: context.awsRequestId } : {}),
      coldStart: invocations === 1,
      ...(traceId ? { traceId } : {}),
    };
  };
}
