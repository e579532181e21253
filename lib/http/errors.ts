// HTTP errors that carry their status, a stable code, and whether their message may reach the client.

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  /** When false the client gets a generic message; the real one stays in the logs. */
  readonly expose: boolean;
  readonly headers: Record<string, string>;
  /** One line per bad field; the response lists the first MAX_LISTED_PROBLEMS of them. */
  readonly problems: string[] | undefined;
  /** Machine-readable facts beside the message, such as the ids of the runs in the way. */
  readonly details: Record<string, unknown> | undefined;
  constructor(
    status: number,
    code: string,
    message: string,
    options: ErrorOptions & {
      expose?: boolean;
      headers?: Record<string, string>;
      problems?: string[];
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.expose = options.expose ?? status < 500;
    this.headers = options.headers ?? {};
    this.problems = options.problems;
    this.details = options.details;
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
export function clientMessage(error: HttpError): string {
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
