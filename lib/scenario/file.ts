// A scenario file (YAML or JSON) read by the CLI, its data feeder's file read beside it and sent as rows: no
// worker ever reads a file.

import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { isJsonObject } from '../validation/rules.ts';
import { parseCsv } from './csv.ts';
import { SCENARIO_CAPS, ScenarioError } from './schema.ts';

/** A scenario file is a few steps; anything this large is a wrong file. */
export const MAX_SCENARIO_FILE_BYTES = 1_000_000;

function readText(path: string, maxBytes: number, field: string, file: string): string {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ScenarioError([
      `${file}: ${field}cannot read "${path}": ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    ]);
  }
  if (size > maxBytes)
    throw new ScenarioError([`${file}: ${field}"${path}" is ${size} bytes, over the cap of ${maxBytes}`]);
  return readFileSync(path, 'utf8');
}

/** The document of a YAML or JSON text, or the parser's errors named by line and column. */
export function parseScenarioText(text: string, file: string): unknown {
  if (extname(file).toLowerCase() === '.json') {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ScenarioError([`${file}: not JSON: ${(error as Error).message}`]);
    }
  }
  // JSON is YAML too: a file named otherwise is read as YAML.
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0)
    throw new ScenarioError(
      document.errors.map((error) => {
        const at = error.linePos?.[0];
        return `${file}: ${at ? `line ${at.line}, column ${at.col}: ` : ''}${error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:$/, '')}`;
      }),
    );
  return document.toJS({ maxAliasCount: 100 });
}

/** The rows of a data file: CSV with a header row, or a JSON list of objects. */
export function readDataFile(path: string, format: unknown, file: string): Array<Record<string, unknown>> {
  const text = readText(path, SCENARIO_CAPS.dataBytes, 'data.file: ', file);
  const kind = format ?? (extname(path).toLowerCase() === '.json' ? 'json' : 'csv');
  if (kind === 'csv') {
    try {
      return parseCsv(text);
    } catch (error) {
      throw new ScenarioError([`${file}: data.file: ${basename(path)}: ${(error as Error).message}`]);
    }
  }
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError([
      `${file}: data.file: ${basename(path)} is not JSON: ${(error as Error).message}`,
    ]);
  }
  if (!Array.isArray(rows) || !rows.every(isJsonObject))
    throw new ScenarioError([`${file}: data.file: ${basename(path)} must hold a JSON list of objects`]);
  return rows;
}

/**
 * Reads a scenario file and its data file (relative to it), and returns the document with the data's rows in
 * place of its file, as the API takes it. The document itself is validated by the load-test input.
 */
export function readScenarioFile(path: string): unknown {
  const text = readText(path, MAX_SCENARIO_FILE_BYTES, '', basename(path));
  const document = parseScenarioText(text, basename(path));
  if (!isJsonObject(document) || !isJsonObject(document.data) || typeof document.data.file !== 'string')
    return document;
  const { file, format, ...data } = document.data;
  const rows = readDataFile(resolve(dirname(path), file), format, basename(path));
  return { ...document, data: { ...data, rows } };
}
