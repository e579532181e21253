// The API's own errors and the bounds on what an error body lists.

import { LoadwatchError, type LoadwatchErrorOptions } from '../errors.ts';

/** An answer the API gives on purpose (400, 404, 409…): its status and code are chosen where it is thrown. */
export class HttpError extends LoadwatchError {
  constructor(
    status: number,
    code: string,
    message: string,
    options: Omit<LoadwatchErrorOptions, 'code' | 'status'> = {},
  ) {
    super(message, { ...options, code, status });
  }
}

/** Enough to fix a request by; a body of every problem of a hostile one would run to megabytes. */
export const MAX_LISTED_PROBLEMS = 20;
/** A problem quotes the value it refuses, which may be as long as the body limit allows. */
export const MAX_PROBLEM_LENGTH = 500;

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

/** The first problems, each at most MAX_PROBLEM_LENGTH long, then "and N more" for the rest. */
export function listProblems(problems: string[], max = MAX_LISTED_PROBLEMS): string[] {
  const listed = problems.slice(0, max).map((problem) => truncate(problem, MAX_PROBLEM_LENGTH));
  if (problems.length > max) listed.push(`and ${problems.length - max} more`);
  return listed;
}

/** The message a client may see: the listed problems when there are some, else the message, bounded alike. */
export function clientMessage(error: LoadwatchError): string {
  if (error.problems?.length) return listProblems(error.problems).join('; ');
  return truncate(error.message, MAX_PROBLEM_LENGTH * 4);
}

export const badRequest = (message: string, code = 'BAD_REQUEST') => new HttpError(400, code, message);
export const notFound = (message: string) => new HttpError(404, 'NOT_FOUND', message);
export const methodNotAllowed = (method: string, path: string, allowed: string[]) =>
  new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, {
    headers: { Allow: allowed.join(', ') },
  });
export const payloadTooLarge = (limitBytes: number) =>
  new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is over the ${limitBytes} byte limit`);
