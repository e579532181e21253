// The log levels, from least to most severe: LOG_LEVEL names the least a logger writes.

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
