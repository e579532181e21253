// The log levels, from least to most severe: LOG_LEVEL names the least a logger writes.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
