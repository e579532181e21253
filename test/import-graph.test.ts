// lib/ and functions/ import without cycles: no folder reaches itself through another, type imports included, and
// no module reaches itself at run time through the modules it imports.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../lib/local/stack.ts';

const ROOT = projectRoot();
const LIB = join(ROOT, 'lib');
const FUNCTIONS = join(ROOT, 'functions');
// Static imports and re-exports, type-only ones too: a folder that needs another's types depends on it.
const IMPORT = /^\s*(?:import|export)\b[^;]*?\bfrom\s*'(\.{1,2}\/[^']+)'/gm;
// What stays in the compiled code: the same without `import type`/`export type`, plus side-effect and dynamic imports.
const RUNTIME_IMPORT = /^\s*(?:import|export)\s+(?!type\b)[^;]*?\bfrom\s*'(\.{1,2}\/[^']+)'/gm;
const SIDE_EFFECT_IMPORT = /^\s*import\s*'(\.{1,2}\/[^']+)'/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

/** lib/monitor/store.ts → lib/monitor; a file at the top of lib/ or functions/ is a unit of its own. */
function unitOf(file: string): string {
  const parts = relative(ROOT, file).split(sep);
  return parts.length > 2 ? parts.slice(0, 2).join('/') : parts.join('/').replace(/\.ts$/, '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Each file → the project files it imports by the given patterns. */
function fileGraph(
  files: string[],
  read: (file: string) => string,
  patterns: RegExp[],
): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const text = read(file);
    const targets = patterns.flatMap((pattern) =>
      [...text.matchAll(pattern)].map((match) => resolve(dirname(file), match[1] as string)),
    );
    graph.set(file, new Set(targets.filter((target) => target.startsWith(ROOT + sep))));
  }
  return graph;
}

/** The same graph between units: folder → the folders its files import from. */
function unitGraph(files: Map<string, Set<string>>): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const [file, targets] of files) {
    const from = unitOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const target of targets) if (unitOf(target) !== from) edges.add(unitOf(target));
  }
  return graph;
}

/** The graph with its paths relative to `base`, so a cycle reads as paths of the project. */
const relativeTo = (graph: Map<string, Set<string>>, base: string) =>
  new Map(
    [...graph].map(([file, targets]) => [
      relative(base, file),
      new Set([...targets].map((target) => relative(base, target))),
    ]),
  );

const folderGraph = (files: string[], read: (file: string) => string) =>
  unitGraph(fileGraph(files, read, [IMPORT]));

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

describe('the import graph of lib/ and functions/', () => {
  const files = [...sourceFiles(LIB), ...sourceFiles(FUNCTIONS)];
  const read = (file: string) => readFileSync(file, 'utf8');

  it('has no cycle between folders', () => {
    const graph = folderGraph(files, read);
    expect(graph.size).toBeGreaterThan(5);
    expect(graph.get('functions/api')).toContain('lib/api');
    expect(findCycles(graph)).toEqual([]);
  });

  it('has no module that imports itself at run time through others', () => {
    const graph = fileGraph(files, read, [RUNTIME_IMPORT, SIDE_EFFECT_IMPORT, DYNAMIC_IMPORT]);
    const named = relativeTo(graph, ROOT);
    expect(named.get('functions/api.ts')).toContain('lib/api/create-api.ts');
    expect(findCycles(named)).toEqual([]);
  });

  it('finds and lists a loop between folders', () => {
    const sources: Record<string, string> = {
      [join(LIB, 'a', 'one.ts')]: "import { two } from '../b/two.ts';",
      [join(LIB, 'b', 'two.ts')]: "import type {\n  Three,\n} from '../c/three.ts';",
      [join(LIB, 'c', 'three.ts')]: "export { one } from '../a/one.ts';",
      [join(LIB, 'd', 'four.ts')]: "import { one } from '../a/one.ts';",
    };
    const graph = folderGraph(Object.keys(sources), (file) => sources[file] as string);
    expect(findCycles(graph)).toEqual(['lib/a → lib/b → lib/c → lib/a']);
  });

  it('finds a loop between modules at run time, and none through a type-only import', () => {
    const sources: Record<string, string> = {
      [join(LIB, 'a.ts')]: "import { b } from './b.ts';",
      [join(LIB, 'b.ts')]: "const c = () => import('./c.ts');",
      [join(LIB, 'c.ts')]: "import './a.ts';\nimport type { D } from './d.ts';",
      [join(LIB, 'd.ts')]: "import type { A } from './a.ts';",
    };
    const graph = fileGraph(Object.keys(sources), (file) => sources[file] as string, [
      RUNTIME_IMPORT,
      SIDE_EFFECT_IMPORT,
      DYNAMIC_IMPORT,
    ]);
    expect(findCycles(relativeTo(graph, LIB))).toEqual(['a.ts → b.ts → c.ts → a.ts']);
  });
});
