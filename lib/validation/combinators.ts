// Two ways of combining schemas that valibot lacks, for inputs that take one field in several forms.

import * as v from 'valibot';

type Schema = v.GenericSchema;

/** The JavaScript kind a schema's input must be, by the schema's type; none for a schema that takes any. */
const KIND_OF_SCHEMA: Record<string, string> = {
  string: 'string',
  number: 'number',
  array: 'array',
  null: 'null',
  object: 'object',
  loose_object: 'object',
  strict_object: 'object',
  object_with_rest: 'object',
  record: 'object',
};

function kindOfValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * A union whose options take different kinds of value (text, a number, a list, an object): the option for the
 * value's kind reads it alone and reports its own issues, so that an endpoint object with a bad path is named
 * at `endpoint.path`, not as "neither a path nor an object". A value of no option's kind gets `message`.
 * It converts to JSON Schema as the union it is.
 */
export function byKind<const Options extends v.UnionOptions>(
  options: Options,
  message: (issue: v.UnionIssue<v.BaseIssue<unknown>>) => string,
) {
  const union = v.union(options, message);
  return {
    ...union,
    '~run'(dataset: v.UnknownDataset, config: v.Config<v.BaseIssue<unknown>>) {
      const option = options.find((item) => KIND_OF_SCHEMA[item.type] === kindOfValue(dataset.value));
      return (option ?? union)['~run'](dataset, config);
    },
  } as typeof union;
}

/**
 * Reads `value` with `schema` inside a raw transform, reporting its issues as the caller's, below `path`.
 * For a field whose form decides how the rest of it is read (a ramp-up given as one duration or as stages).
 */
export function readWith<const Sub extends Schema>(
  schema: Sub,
  value: unknown,
  addIssue: v.RawTransformAddIssue<unknown>,
  path: v.IssuePathItem[] = [],
): { ok: true; output: v.InferOutput<Sub> } | { ok: false } {
  const result = v.safeParse(schema, value);
  if (result.success) return { ok: true, output: result.output };
  for (const issue of result.issues) {
    const full = [...path, ...(issue.path ?? [])];
    addIssue({
      message: issue.message,
      input: issue.input,
      ...(full.length > 0 ? { path: full as [v.IssuePathItem, ...v.IssuePathItem[]] } : {}),
    });
  }
  return { ok: false };
}

/** The path item of an entry of a list, for issues reported below it. */
export function itemPath(list: unknown[], index: number): v.ArrayPathItem {
  return { type: 'array', origin: 'value', input: list, key: index, value: list[index] };
}

/** The path item of a field of an object, for issues reported below it. */
export function fieldPath(object: Record<string, unknown>, key: string): v.ObjectPathItem {
  return { type: 'object', origin: 'value', input: object, key, value: object[key] };
}
