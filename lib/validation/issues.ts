// Schema issues as the "field: message" lines every input reports, so that one run names every problem.

import * as v from 'valibot';

type Schema = v.GenericSchema;
type Issue = v.BaseIssue<unknown>;

/** `endpoints[0].path`, `flows[0].steps[2]`, `requestContext.http.method`; empty for the input itself. */
function issueField(issue: Pick<Issue, 'path'>, base = ''): string {
  let field = base;
  for (const item of issue.path ?? []) {
    const key = item.key;
    if (typeof key === 'number') field += `[${key}]`;
    else field += field === '' ? String(key) : `.${String(key)}`;
  }
  return field;
}

/** The schema that reads the value at an issue's path, through optional wrappers and list items. */
function schemaAt(schema: Schema, path: readonly v.IssuePathItem[]): Schema | undefined {
  let current: Schema | undefined = schema;
  for (const item of path) {
    const { entries, item: listItem } = objectOrList(unwrap(current));
    current = typeof item.key === 'number' ? listItem : entries?.[String(item.key)];
    if (!current) return undefined;
  }
  return current;
}

type Shape = { entries?: Record<string, Schema>; item?: Schema };

/** An object's entries or a list's item; for a variant, the entries of all its options, the first naming a key. */
function objectOrList(schema: Schema | undefined): Shape {
  const shape = (unwrap(schema) ?? {}) as Shape & { options?: Schema[] };
  if (!shape.options) return shape;
  const entries: Record<string, Schema> = {};
  for (const option of shape.options)
    for (const [key, entry] of Object.entries(objectOrList(option).entries ?? {})) entries[key] ??= entry;
  return { entries };
}

function unwrap(schema: Schema | undefined): Schema | undefined {
  let current = schema;
  while (current && 'wrapped' in current) current = current.wrapped as Schema;
  return current;
}

/**
 * One line per issue, "field: message" (the message alone for the input as a whole). Given the schema, a missing
 * field is described by its own schema rather than its parent's, and a missing object also names each field it
 * needs, so that a caller learns the whole shape in one go.
 */
export function issueLines(issues: readonly Issue[], schema?: Schema, base = ''): string[] {
  return issues.flatMap((issue) => linesOf(issue, schema, base));
}

function linesOf(issue: Issue, schema: Schema | undefined, base: string): string[] {
  const field = issueField(issue, base);
  const path = issue.path ?? [];
  const at = schema && path.length > 0 ? schemaAt(schema, path) : schema;
  if (at && path.at(-1)?.origin === 'key') {
    const own = v.safeParse(at, undefined);
    if (!own.success) return issueLines(own.issues, at, field);
  }
  const line = field === '' ? issue.message : `${field}: ${issue.message}`;
  const shape = issue.input === undefined ? unwrap(at) : undefined;
  if (shape && 'entries' in shape) {
    const inner = v.safeParse(shape, {});
    if (!inner.success) return [line, ...issueLines(inner.issues, shape, field)];
  }
  return [line];
}
