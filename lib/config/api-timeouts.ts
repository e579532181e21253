// The API's deadlines, from API_HANDLER_TIMEOUT and READINESS_TIMEOUT.

/**
 * The API's own deadlines. They nest inside the database's: statement timeout < pool wait < handler timeout <
 * API Gateway's 29 s, so the innermost limit fires first and names the cause, and every request that runs out
 * answers 503 with Retry-After from the handler rather than a gateway 500/504.
 */
export interface ApiTimeouts {
  /** Longest a route may take before the API answers 503 (API_HANDLER_TIMEOUT, ms). */
  handlerTimeoutMs: number;
  /** Longest /health/ready waits for its database round trip before it answers 503 (READINESS_TIMEOUT, ms). */
  readinessTimeoutMs: number;
}

/** API Gateway's integration timeout, which the local adapter imitates. */
export const GATEWAY_TIMEOUT_MS = 29_000;

export const API_TIMEOUT_DEFAULTS: ApiTimeouts = { handlerTimeoutMs: 25_000, readinessTimeoutMs: 2000 };
