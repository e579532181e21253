// Scratch data directories inside the project's .loadwatch/, removed with the PostgreSQL data kept for them elsewhere.

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { removeDataDirectory } from '../../lib/local/embedded-postgres.ts';
import { projectRoot } from '../../lib/local/stack.ts';

export function scratchDataDir(prefix: string): { path: string; remove(): void } {
  const path = join(projectRoot(), '.loadwatch', `${prefix}-${randomBytes(4).toString('hex')}`);
  mkdirSync(path, { recursive: true });
  return { path, remove: () => removeDataDirectory(path) };
}
