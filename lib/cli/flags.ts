// The flag parser of every command: it names every bad flag at once, with "did you mean" for a typo.

/** A command's flags by kind, each name listed once (as minimist's and yargs-parser's options group them). */
export interface FlagSpec {
  /** Flags that take a value: `--name value` or `--name=value`, given once. */
  values?: readonly string[];
  /** Flags that take a value and may be repeated: every value, in order. */
  lists?: readonly string[];
  /** Flags without a value. */
  switches?: readonly string[];
  /** One-letter aliases, such as `{ h: 'help' }` for `-h`. */
  short?: Readonly<Record<string, string>>;
}

type Names<List> = List extends readonly (infer Name extends string)[] ? Name : never;

export type FlagValues<S extends FlagSpec> = { [K in Names<S['values']>]?: string } & {
  [K in Names<S['lists']>]?: string[];
} & { [K in Names<S['switches']>]?: boolean };

export interface ParsedFlags<S extends FlagSpec> {
  values: FlagValues<S>;
  positionals: string[];
  /** One line per bad flag or argument, naming it and what is wrong; empty when all is well. */
  problems: string[];
}

/** Edit distance with transpositions, so that "duraton" and "durtaion" are both one typo from "duration". */
function editDistance(a: string, b: string): number {
  // rows[i][j]: the distance between the first i characters of a and the first j of b.
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => i + j),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
      (rows[i] as number[])[j] = Math.min(
        at(i - 1, j) + 1,
        at(i, j - 1) + 1,
        at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
        swapped ? at(i - 2, j - 2) + 1 : Number.POSITIVE_INFINITY,
      );
    }
  }
  return at(a.length, b.length);
}

/** The known name a mistyped one most likely meant: a near spelling or a name it abbreviates. */
export function closestName(name: string, known: string[]): string | undefined {
  const lowered = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance =
      candidate.startsWith(lowered) && lowered.length >= 3 ? 0.5 : editDistance(lowered, candidate);
    if (distance <= Math.max(1, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

// "-1" is a value (a negative number), "-x" and "--x" are flags.
const looksLikeFlag = (arg: string) => /^--./.test(arg) || /^-[a-z]/i.test(arg);

/**
 * Parses `--name value`, `--name=value`, `-h` and `--` against the command's flags. Unlike parseArgs in
 * strict mode, it does not stop at the first mistake: the caller reports all of them together.
 */
export function parseFlags<const S extends FlagSpec>(
  args: string[],
  spec: S,
  options: { maxPositionals?: number } = {},
): ParsedFlags<S> {
  const values: Record<string, boolean | string | string[]> = {};
  const positionals: string[] = [];
  const problems: string[] = [];
  const kinds = new Map<string, 'value' | 'list' | 'switch'>([
    ...(spec.values ?? []).map((name) => [name, 'value'] as const),
    ...(spec.lists ?? []).map((name) => [name, 'list'] as const),
    ...(spec.switches ?? []).map((name) => [name, 'switch'] as const),
  ]);
  const names = [...kinds.keys()];
  const byShort = new Map(Object.entries(spec.short ?? {}));
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === '--') {
      positionals.push(...args.slice(index + 1));
      break;
    }
    if (!looksLikeFlag(arg)) {
      positionals.push(arg);
      continue;
    }
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = equals === -1 ? arg : arg.slice(0, equals);
    const inline = equals === -1 ? undefined : arg.slice(equals + 1);
    const name = flag.startsWith('--') ? flag.slice(2) : byShort.get(flag.slice(1));
    const kind = name === undefined ? undefined : kinds.get(name);
    if (name === undefined || kind === undefined) {
      const suggestion = closestName(flag.replace(/^--?/, ''), names);
      problems.push(`${flag}: unknown option${suggestion ? `; did you mean --${suggestion}?` : ''}`);
      // What follows a mistyped flag is most likely its value, not an argument of its own.
      const next = args[index + 1];
      if (inline === undefined && next !== undefined && !looksLikeFlag(next)) index++;
      continue;
    }
    if (kind === 'switch') {
      if (inline === undefined) values[name] = true;
      else problems.push(`--${name}: takes no value (got "${inline}")`);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = args[index + 1];
      if (next === undefined || looksLikeFlag(next)) {
        problems.push(`--${name}: needs a value`);
        continue;
      }
      value = next;
      index++;
    }
    const previous = values[name];
    if (kind === 'list') values[name] = [...((previous as string[] | undefined) ?? []), value];
    else if (previous !== undefined)
      problems.push(`--${name}: given more than once ("${previous}", "${value}")`);
    else values[name] = value;
  }
  const maxPositionals = options.maxPositionals ?? 0;
  for (const extra of positionals.slice(maxPositionals)) problems.push(`unexpected argument "${extra}"`);
  return { values: values as FlagValues<S>, positionals: positionals.slice(0, maxPositionals), problems };
}
