// A command line that cannot be carried out as written: exit code 2, every problem named on its own line.

import { EXIT, LoadwatchError } from '../errors.ts';

export class UsageError extends LoadwatchError {
  declare readonly problems: string[];
  constructor(problems: string | string[], options?: ErrorOptions) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('; '), { ...options, code: 'USAGE', status: 400, exitCode: EXIT.usage, problems: list });
    this.name = 'UsageError';
  }
}
