// What CORS allows: read from the environment by config, applied by the cors middleware.

export interface CorsConfig {
  /** Exact origins allowed to call the API cross-origin; ['*'] for any; [] for none. */
  origins: string[];
  credentials: boolean;
  maxAgeSeconds: number;
  /** Request headers a preflight allows; unset: the ones the preflight asks for (the cors package's default). */
  allowHeaders?: string[];
  /** Response headers a page may read; unset: the middleware's default (Retry-After, X-Request-Id). */
  exposeHeaders?: string[];
}
