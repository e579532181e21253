// HTTP errors that carry their status, a stable code, and whether their message may reach the client.

export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  /** When false the client gets a generic message; the real one stays in the logs. */
  readonly expose: boolean;
  readonly headers: Record<string, string>;
  constructor(
    status: number,
    code: string,
    message: string,
    options: ErrorOptions & { expose?: boolean; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.expose = options.expose ?? status < 500;
    this.headers = options.headers ?? {};
  }
}

export const badRequest = (message: string, code = 'BAD_REQUEST') => new HttpError(400, code, message);
export const notFound = (message: string) => new HttpError(404, 'NOT_FOUND', message);
export const methodNotAllowed = (method: string, path: string, allowed: string[]) =>
  new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, {
    headers: { Allow: allowed.join(', ') },
  });
export const payloadTooLarge = (limitBytes: number) =>
  new HttpError(413, 'PAYLOAD_TOO_LARGE', `request body is over the ${limitBytes} byte limit`);
