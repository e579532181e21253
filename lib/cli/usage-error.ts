// A command line that cannot be carried out as written: exit code 2, every problem named on its own line.

export class UsageError extends Error {
  readonly code = 'USAGE';
  readonly problems: string[];
  constructor(problems: string | string[], options?: ErrorOptions) {
    const list = typeof problems === 'string' ? [problems] : problems;
    super(list.join('; '), options);
    this.name = 'UsageError';
    this.problems = list;
  }
}
