// Scratch data directories inside the project's .loadwatch/, reachable by the postgres OS user when run as root.

import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib/local/stack.ts';

export function scratchDataDir(prefix: string): { path: string; remove(): void } {
  const path = join(projectRoot(), '.loadwatch', `${prefix}-${randomBytes(4).toString('hex')}`);
  mkdirSync(path, { recursive: true });
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
