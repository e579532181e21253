// The load-test input as JSON Schema, for editors: `npm run schema` writes docs/schema/loadtest-input.schema.json.
// It describes each field's form (number, text, list, names), not the caps, which each deployment sets.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toJsonSchema } from '@valibot/to-json-schema';
import { loadTestInputShape } from '../lib/loadtest/options.ts';

export const LOADTEST_INPUT_SCHEMA_FILE = fileURLToPath(
  new URL('../docs/schema/loadtest-input.schema.json', import.meta.url),
);

export function loadTestInputJsonSchema(): Record<string, unknown> {
  // Checks are rules on a value already of the right form (a path's characters, a known method): no editor
  // needs them to be told the form, and the parser names them.
  const { $schema, ...schema } = toJsonSchema(loadTestInputShape(), {
    typeMode: 'input',
    ignoreActions: ['check'],
  });
  return {
    $schema,
    title: 'loadwatch load-test input',
    description:
      'The JSON body of POST /v1/loadtests and the loadtest function (docs/production/LOAD_TESTING.md). Caps such as LOADTEST_MAX_USERS are checked by the service.',
    ...schema,
  };
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(LOADTEST_INPUT_SCHEMA_FILE, `${JSON.stringify(loadTestInputJsonSchema(), null, 2)}\n`);
  // The file is formatted as the linter formats JSON, so that lint stays green after a regeneration.
  execFileSync('npx', ['biome', 'format', '--write', LOADTEST_INPUT_SCHEMA_FILE], { stdio: 'inherit' });
  console.log(`wrote ${LOADTEST_INPUT_SCHEMA_FILE}`);
}
