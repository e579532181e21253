// The one error family: each error carries a stable code, its HTTP status, its exit code and whether its message
// may reach a client, so the API and the CLI answer it by reading these fields rather than by testing its class.

/** The command line's exit codes: 0 done, 1 failed, 2 bad usage or configuration (refused as asked). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export interface LoadwatchErrorOptions extends ErrorOptions {
  /** Stable and machine-readable: clients and scripts branch on it, never on the message. */
  code: string;
  /** The API's answer; 500 unless the error is the client's to fix or the service's to retry. */
  status?: number;
  /** The command line's exit code; EXIT.failed unless it is the user's to fix. */
  exitCode?: number;
  /** Whether a client may read the message; defaults to true below 500. */
  expose?: boolean;
  /** What a client reads when the message is not exposed; "internal error" when unset. */
  publicMessage?: string;
  /** One line per bad field or flag; a response lists the first MAX_LISTED_PROBLEMS (lib/http/errors.ts). */
  problems?: string[];
  /** Response headers that belong to the error, such as Retry-After or Allow. */
  headers?: Record<string, string>;
  /** Machine-readable facts beside the message, such as the ids of the runs in the way. */
  details?: Record<string, unknown>;
  /** The line the command line prints above the problems; without one it counts them. */
  summary?: string;
}

export class LoadwatchError extends Error {
  readonly code: string;
  readonly status: number;
  readonly exitCode: number;
  readonly expose: boolean;
  readonly publicMessage: string | undefined;
  readonly problems: string[] | undefined;
  readonly headers: Record<string, string>;
  readonly details: Record<string, unknown> | undefined;
  readonly summary: string | undefined;
  constructor(message: string, options: LoadwatchErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.status = options.status ?? 500;
    this.exitCode = options.exitCode ?? EXIT.failed;
    this.expose = options.expose ?? this.status < 500;
    this.publicMessage = options.publicMessage;
    this.problems = options.problems;
    this.headers = options.headers ?? {};
    this.details = options.details;
    this.summary = options.summary;
  }
}

/** Input refused before anything ran, every problem named: 400 over the API, exit code 2 on the command line. */
export class InputError extends LoadwatchError {
  declare readonly problems: string[];
  /** `summary`: the line the command line prints above the problems. */
  constructor(problems: string[], code: string, summary: string) {
    super(problems.join('; '), { code, status: 400, exitCode: EXIT.usage, problems, summary });
  }
}

/** The environment names settings that cannot work: every problem at once, one line each. */
export class ConfigError extends LoadwatchError {
  declare readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  ${problem}`).join('\n')}`, {
      code: 'CONFIG_INVALID',
      exitCode: EXIT.usage,
      problems,
      summary: 'invalid configuration',
    });
  }
}
