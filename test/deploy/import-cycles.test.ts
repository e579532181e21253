// lib/ and functions/ import without cycles: no module reaches itself through its imports, nor any folder through
// another. Type-only imports are left out, as the compiler erases them.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Found from this file, not through lib/: the graph is read as text, so a cycle cannot stop it from loading.
const root = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

const STATIC_IMPORT = /^(?:import|export)\s+(type\s+)?[^;'"]*?\bfrom\s+'(\.[^']+)'/gm;
const SIDE_EFFECT_IMPORT = /^import\s+'(\.[^']+)'/gm;
const DYNAMIC_IMPORT = /\bimport\(\s*'(\.[^']+)'\s*\)/g;

/** Each module's relative imports that stay in the compiled code, as paths from the project root. */
function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = [
      ...[...text.matchAll(STATIC_IMPORT)].filter((match) => !match[1]).map((match) => match[2] as string),
      ...[...text.matchAll(SIDE_EFFECT_IMPORT)].map((match) => match[1] as string),
      ...[...text.matchAll(DYNAMIC_IMPORT)].map((match) => match[1] as string),
    ];
    graph.set(
      relative(root, file),
      targets.map((target) => relative(root, resolve(dirname(file), target))),
    );
  }
  return graph;
}

/** The cycles of a directed graph, each as the path that closes it (a → b → a); empty when there are none. */
function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of new Set(graph.get(node) ?? [])) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

/** lib/monitor/store.ts → lib/monitor; functions/api.ts → functions/api.ts (each entry its own). */
const folderOf = (path: string) => path.split('/').slice(0, 2).join('/');

describe('the import graph of lib/ and functions/', () => {
  const graph = importGraph([...sourceFiles(join(root, 'lib')), ...sourceFiles(join(root, 'functions'))]);

  it('reads every module and the imports between them', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('functions/api.ts')).toContain('lib/api/create-api.ts');
  });

  it('has no module that imports itself through others', () => {
    expect(findCycles(graph).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('has no folder that imports itself through another folder', () => {
    const folders = new Map<string, string[]>();
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      const into = targets.map(folderOf).filter((folder) => folder !== from);
      folders.set(from, [...(folders.get(from) ?? []), ...into]);
    }
    expect(findCycles(folders).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const graphWithCycle = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
    ]);
    expect(findCycles(graphWithCycle)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
