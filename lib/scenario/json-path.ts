// The JSON path subset captures and checks read: $, .name, ['name'] or ["name"], and [index] (negative from the end).

export type JsonPath = Array<string | number>;

const SEGMENT = /^(?:\.([A-Za-z_$][A-Za-z0-9_$-]*)|\[(-?\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;

/** Compiles "$.data.items[0].id"; throws an Error naming the part it cannot read. */
export function compileJsonPath(text: string): JsonPath {
  if (!text.startsWith('$'))
    throw new Error(`${JSON.stringify(text)} must start with "$" (e.g. $.data.token)`);
  const path: JsonPath = [];
  let rest = text.slice(1);
  while (rest !== '') {
    const match = SEGMENT.exec(rest);
    if (!match)
      throw new Error(
        `${JSON.stringify(text)}: cannot read ${JSON.stringify(rest)}; the supported forms are .name, [0] and ['name']`,
      );
    const index = match[2];
    path.push(index !== undefined ? Number(index) : ((match[1] ?? match[3] ?? match[4]) as string));
    rest = rest.slice(match[0].length);
  }
  return path;
}

/** The value at the path, or undefined when any part of it is missing. */
export function readJsonPath(value: unknown, path: JsonPath): unknown {
  let current = value;
  for (const segment of path) {
    if (typeof segment === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[segment < 0 ? current.length + segment : segment];
    } else {
      if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
      if (!Object.hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
  }
  return current;
}
