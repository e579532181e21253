import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { LOADTEST_INPUT_SCHEMA_FILE, loadTestInputJsonSchema } from '../../bench/loadtest-input-schema.ts';
import { LoadTestInputError } from '../../lib/loadtest/input-error.ts';
import { parseLoadTestInput } from '../../lib/loadtest/options.ts';

const target = 'http://localhost:3000';

function parserAccepts(input: unknown): boolean {
  try {
    parseLoadTestInput(input);
    return true;
  } catch (error) {
    if (error instanceof LoadTestInputError) return false;
    throw error;
  }
}

describe('the load-test input JSON Schema', () => {
  const validate = new Ajv({ strict: true, allErrors: true }).compile(loadTestInputJsonSchema());

  it('is the one committed in docs/schema (npm run schema writes it)', () => {
    const committed = JSON.parse(readFileSync(LOADTEST_INPUT_SCHEMA_FILE, 'utf8'));
    expect(committed).toEqual(loadTestInputJsonSchema());
  });

  it('accepts the inputs the documentation shows, as the parser does', () => {
    const examples = [
      { users: 20, requests: 50, thresholds: ['p95<300', 'errors<1%'] },
      { users: 50, requests: 20, thinkTime: '100ms' },
      {
        rate: 200,
        duration: '2m',
        rampUp: [
          { duration: '10s', rate: 50 },
          { duration: '30s', rate: 200 },
        ],
      },
      { rate: 200, duration: '2m', rampUp: '10s:50,30s:200', timeout: '2s', workers: '4' },
      {
        rate: 300,
        duration: '5m',
        headers: { Authorization: 'Bearer token' },
        endpoints: [
          { path: '/v1/orders', weight: 8 },
          { path: '/v1/orders', method: 'POST', body: { sku: 'A-1', qty: 1 }, weight: 1 },
          '/health',
        ],
      },
      { endpoint: '/health', method: 'head', headers: ['X-Trace: 1'], toleratedFailurePercent: 5 },
    ];
    for (const example of examples) {
      const input = { target, ...example };
      expect({ input, schema: validate(input), parser: parserAccepts(input) }).toEqual({
        input,
        schema: true,
        parser: true,
      });
    }
  });

  it('refuses what is refused for its form alone: an unknown option, a list for a number, a path without "/"', () => {
    for (const input of [
      { target, colour: 'red' },
      { target, users: [10] },
      { target, users: 1.5 },
      { target, duration: 'forever' },
      { target, endpoints: [] },
      { target, endpoint: { path: 'health' } },
      { target, thresholds: 300 },
    ]) {
      expect({ input, schema: validate(input), parser: parserAccepts(input) }).toEqual({
        input,
        schema: false,
        parser: false,
      });
    }
  });
});
