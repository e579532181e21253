// The error of a load test refused before it starts, naming every problem: a bad field, a plan over a cap.

import { InputError } from '../errors.ts';

export class LoadTestInputError extends InputError {
  constructor(problems: string[]) {
    super(problems, 'INVALID_LOADTEST', 'invalid load test');
  }
}
