import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../lib/local/stack.ts';

/** The project's own files an entry's bundle carries, relative to the project, as esbuild resolves them. */
async function bundledFiles(entry: string): Promise<string[]> {
  const result = await build({
    absWorkingDir: projectRoot(),
    entryPoints: [join(projectRoot(), entry)],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // What a bundle holds of the project, not of node_modules, is the question here.
    packages: 'external',
    metafile: true,
    write: false,
    logLevel: 'error',
  });
  return Object.keys(result.metafile.inputs);
}

describe('the load test functions’ bundles', () => {
  it('leaves the shard step and the load engine out of the coordinator, which never runs a shard', async () => {
    const files = await bundledFiles('functions/loadtest-coordinator.ts');
    expect(files).toContain('lib/loadtest/coordinator-steps.ts');
    expect(files).not.toContain('lib/loadtest/shard-step.ts');
    expect(files).not.toContain('lib/loadtest/engine.ts');
  });

  it('leaves the coordinator’s steps out of the worker, which only runs shards', async () => {
    const files = await bundledFiles('functions/loadtest-worker.ts');
    expect(files).toContain('lib/loadtest/shard-step.ts');
    expect(files).toContain('lib/loadtest/engine.ts');
    expect(files).not.toContain('lib/loadtest/coordinator-steps.ts');
  });
});
