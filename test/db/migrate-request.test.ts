import { describe, expect, it } from 'vitest';
import { MigrateUsageError, parseMigrateRequest } from '../../lib/db/migrate-command.ts';

describe('parseMigrateRequest', () => {
  it('reads no event, null or an empty object as up', () => {
    expect(parseMigrateRequest(null)).toEqual({ action: 'up' });
    expect(parseMigrateRequest({})).toEqual({ action: 'up' });
    expect(parseMigrateRequest({ action: 'up', all: false })).toStrictEqual({ action: 'up', all: undefined });
  });

  it('refuses anything but an object, showing what one looks like', () => {
    for (const input of [[], 'up', 3]) {
      expect(() => parseMigrateRequest(input)).toThrow(
        new MigrateUsageError('expected an object like {"action":"up"}'),
      );
    }
  });

  it('names every bad field at once', () => {
    expect(() => parseMigrateRequest({ action: 'sideways', count: 1.5, cout: 9 })).toThrow(
      'action: "sideways" is not one of up, down, status; count: 1.5 is not a whole number of at least 1; cout: not a migrate field (action, count, all)',
    );
    expect(() => parseMigrateRequest({ action: 'status', all: true })).toThrow('all: not used with status');
  });
});
