import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../lib/local/stack.ts';

const LIB = join(projectRoot(), 'lib');
// Static imports and re-exports, type-only ones too: a folder that needs another's types depends on it.
const IMPORT = /^\s*(?:import|export)\b[^;]*?\bfrom\s*'(\.{1,2}\/[^']+)'/gm;

/** The folder under lib/ a file belongs to; a file at the top of lib/ is a unit of its own. */
function unitOf(file: string): string {
  const path = relative(LIB, file);
  return path.includes(sep) ? (path.split(sep)[0] as string) : path.replace(/\.ts$/, '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Folder → the folders its files import from. */
function folderGraph(files: string[], read: (file: string) => string): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const from = unitOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const match of read(file).matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1] as string);
      if (!target.startsWith(LIB + sep)) continue;
      const to = unitOf(target);
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

/** Every loop in the graph once, as "a → b → a", found by a depth-first walk. */
function findCycles(graph: Map<string, Set<string>>): string[] {
  const cycles = new Set<string>();
  const done = new Set<string>();
  const walk = (node: string, path: string[]) => {
    const at = path.indexOf(node);
    if (at !== -1) {
      const loop = path.slice(at);
      // Start each loop at its smallest name, so one loop found from two places is listed once.
      const first = loop.indexOf([...loop].sort()[0] as string);
      const rotated = [...loop.slice(first), ...loop.slice(0, first)];
      cycles.add([...rotated, rotated[0]].join(' → '));
      return;
    }
    if (done.has(node)) return;
    for (const next of graph.get(node) ?? []) walk(next, [...path, node]);
    done.add(node);
  };
  for (const node of [...graph.keys()].sort()) walk(node, []);
  return [...cycles].sort();
}

describe('the import graph of lib/', () => {
  it('has no cycle between folders', () => {
    const graph = folderGraph(sourceFiles(LIB), (file) => readFileSync(file, 'utf8'));
    expect(graph.size).toBeGreaterThan(5);
    expect(findCycles(graph)).toEqual([]);
  });

  it('finds and lists a loop between folders', () => {
    const sources: Record<string, string> = {
      [join(LIB, 'a', 'one.ts')]: "import { two } from '../b/two.ts';",
      [join(LIB, 'b', 'two.ts')]: "import type {\n  Three,\n} from '../c/three.ts';",
      [join(LIB, 'c', 'three.ts')]: "export { one } from '../a/one.ts';",
      [join(LIB, 'd', 'four.ts')]: "import { one } from '../a/one.ts';",
    };
    const graph = folderGraph(Object.keys(sources), (file) => sources[file] as string);
    expect(findCycles(graph)).toEqual(['a → b → c → a']);
  });
});
