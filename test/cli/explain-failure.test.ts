import { describe, expect, it } from 'vitest';
import { explainFailure } from '../../lib/cli/main.ts';
import { UsageError } from '../../lib/cli/usage-error.ts';
import { ConfigError } from '../../lib/config/config.ts';
import { MigrateUsageError } from '../../lib/db/migration-runner.ts';
import { EXIT } from '../../lib/errors.ts';
import { LoadTestInputError } from '../../lib/loadtest/input-error.ts';
import { LocalStackError } from '../../lib/local/stack.ts';
import { CheckConfigError } from '../../lib/monitor/checks.ts';
import { MEMBERS } from '../support/error-family.ts';

describe('explainFailure', () => {
  it.each(MEMBERS.map(([error, fields]) => [error.name, error, fields] as const))(
    'exits with the exit code of a %s and names it on one "loadwatch:" line or more',
    (_name, error, fields) => {
      const failure = explainFailure(error);
      expect(failure.exitCode).toBe(fields.exitCode);
      expect(failure.text).toMatch(/^loadwatch: .+\n( {2}.+\n)*$/);
    },
  );

  it('lists the problems under the summary of a configuration, checks or load-test error', () => {
    expect(explainFailure(new ConfigError(['PORT: "x" is not a port', 'STAGE: is required'])).text).toBe(
      'loadwatch: invalid configuration\n  PORT: "x" is not a port\n  STAGE: is required\n',
    );
    expect(explainFailure(new CheckConfigError('checks.json', ['checks: empty'])).text).toBe(
      'loadwatch: invalid checks in checks.json:\n  checks: empty\n',
    );
    expect(explainFailure(new LoadTestInputError(['users: -1 is not at least 1'])).text).toBe(
      'loadwatch: invalid load test\n  users: -1 is not at least 1\n',
    );
  });

  it('names one usage problem on its line and counts several, then points to help', () => {
    expect(explainFailure(new UsageError('--x: unknown flag'))).toEqual({
      text: 'loadwatch: --x: unknown flag\n',
      exitCode: EXIT.usage,
      pointsToHelp: true,
    });
    expect(explainFailure(new UsageError(['--x: unknown flag', '--y: unknown flag'])).text).toBe(
      'loadwatch: 2 problems\n  --x: unknown flag\n  --y: unknown flag\n',
    );
    expect(explainFailure(new MigrateUsageError('count: not used with status')).pointsToHelp).toBe(true);
  });

  it('does not point to help for a refusal that is not about usage', () => {
    expect(explainFailure(new LocalStackError('PORT_IN_USE', 'port 3000 is taken'))).toEqual({
      text: 'loadwatch: port 3000 is taken\n',
      exitCode: EXIT.usage,
      pointsToHelp: false,
    });
  });

  it('fails with the message of an error outside the family, and of a thrown value', () => {
    expect(explainFailure(new Error('disk full'))).toEqual({
      text: 'loadwatch: disk full\n',
      exitCode: EXIT.failed,
      pointsToHelp: false,
    });
    expect(explainFailure('plain text').text).toBe('loadwatch: plain text\n');
  });
});
