// Structured JSON logs, one object per line, with connection strings and secrets scrubbed.

import { LOG_LEVELS, type LogLevel } from './levels.ts';

export type LogFields = Record<string, unknown>;
/** One log line before it is written: what the JSON line holds. */
export type LogEntry = LogFields & { time: string; level: LogLevel; msg: string };

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|connectionstring|database_?url/i;
const CREDENTIALS_IN_URL = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(:[^@\s]*)?@/gi;

/** Query parameters whose names say they carry a credential (api_key, access_token, X-Amz-Signature, …). */
const SECRET_PARAM =
  /key|token|secret|pass(word|wd)?|pwd|sig(nature)?|auth|session|credential|jwt|bearer|cookie|otp/i;
const QUERY_PARAM = /([?&;])([^=&;#\s?]+)=([^&;#\s]+)/g;

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}

/** A URL or path with the values of credential-like query parameters replaced by ***, the rest kept. */
export function redactQuery(value: string): string {
  if (value.indexOf('=') === -1) return value;
  return value.replace(QUERY_PARAM, (whole: string, separator: string, name: string) =>
    SECRET_PARAM.test(decodedName(name)) ? `${separator}${name}=***` : whole,
  );
}

/** Removes credentials from a string: user:password@ in URLs, bearer tokens and credential query parameters. */
export function redactString(value: string): string {
  // Fast path: nearly every logged string holds no URL with credentials, bearer token or query parameter.
  if (value.indexOf('@') === -1 && value.indexOf('earer') === -1 && value.indexOf('=') === -1) return value;
  return redactQuery(
    value.replace(CREDENTIALS_IN_URL, '$1***@').replace(/\b(Bearer\s+)[\w.~+/=-]+/gi, '$1***'),
  );
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactString(value.message),
      code: (value as { code?: unknown }).code,
    };
  }
  if (value === null || typeof value !== 'object' || depth > 5) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    result[key] = SECRET_KEY.test(key) ? '***' : redact(item, depth + 1);
  }
  return result;
}

export interface LoggerOptions {
  level?: LogLevel;
  fields?: LogFields;
  /** Receives each JSON line, and the entry it encodes for writers that print it another way. */
  write?: (line: string, entry: LogEntry) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const base = redact(options.fields ?? {}) as LogFields;
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const extra = fields === undefined ? undefined : (redact(fields) as LogFields);
    const entry: LogEntry = {
      time: now().toISOString(),
      level,
      msg: redactString(message),
      ...base,
      ...extra,
    };
    write(JSON.stringify(entry), entry);
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => createLogger({ ...options, fields: { ...options.fields, ...fields } }),
  };
}
