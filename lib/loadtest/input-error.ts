// The error of a load test refused before it starts, naming every problem: a bad field, a plan over a cap.

import { EXIT, LoadwatchError } from '../errors.ts';

export class LoadTestInputError extends LoadwatchError {
  declare readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('; '), {
      code: 'INVALID_LOADTEST',
      status: 400,
      exitCode: EXIT.usage,
      problems,
      summary: 'invalid load test',
    });
    this.name = 'LoadTestInputError';
  }
}
