// `loadwatch loadtest scenario.yml`: a scenario file and its CSV read by the CLI, run, and reported per step.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadTestReport } from '../../lib/loadtest/report.ts';
import { runCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { listenLocally } from '../support/listen.ts';

describe('loadwatch loadtest SCENARIO', () => {
  const dataDir = scratchDataDir('loadtest-scenario-cli');
  const folder = mkdtempSync(join(tmpdir(), 'loadwatch-scenario-cli-'));
  let database: TestDatabase;
  let server: Server;
  let target: string;
  const products: string[] = [];
  const env = () => ({ DATABASE_URL: database.url, LOADWATCH_DATA_DIR: dataDir.path });

  beforeAll(async () => {
    database = await createTestDatabase();
    server = createServer((request, response) => {
      const path = request.url ?? '/';
      if (path.startsWith('/products/')) products.push(path.slice('/products/'.length));
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ id: path.split('/').pop() }));
    });
    target = await listenLocally(server);
  });
  afterAll(async () => {
    server?.close();
    await database?.drop();
    dataDir.remove();
    rmSync(folder, { recursive: true, force: true });
  });

  it('runs the file with the rows of its CSV and prints the per-step report', async () => {
    writeFileSync(join(folder, 'ids.csv'), 'sku\nA1\nB2\nC3\nD4\n');
    writeFileSync(
      join(folder, 'browse.yml'),
      [
        'flows:',
        '  - steps:',
        '      - name: product',
        '        path: /products/{{ sku }}',
        '        checks:',
        '          - { json: $.id, exists: true }',
        'data: { file: ids.csv, order: sequential }',
      ].join('\n'),
    );
    const { code, output } = await runCli(
      [
        'loadtest',
        join(folder, 'browse.yml'),
        '--target',
        target,
        '--users',
        '2',
        '--requests',
        '2',
        '--json',
      ],
      env(),
    );
    expect(code).toBe(0);
    const report = JSON.parse(output.slice(output.indexOf('{\n'))) as LoadTestReport;
    expect(products.sort()).toEqual(['A1', 'B2', 'C3', 'D4']);
    expect(report.steps.map(({ name, requests, ok }) => ({ name, requests, ok }))).toEqual([
      { name: 'product', requests: 4, ok: 4 },
    ]);
    expect(report.checks).toEqual([{ step: 'product', name: '$.id exists', passed: 4, failed: 0 }]);
  });

  it('exits 2 naming each problem of the file by its path in it, and sends nothing', async () => {
    const before = products.length;
    writeFileSync(
      join(folder, 'wrong.yml'),
      'flows:\n  - steps:\n      - path: /a\n        capture:\n          token: { json: data.token }\n      - think: soon\n',
    );
    const { code, output } = await runCli(
      ['loadtest', join(folder, 'wrong.yml'), '--target', target, '--endpoint', '/x'],
      env(),
    );
    expect(code).toBe(2);
    expect(output).toContain(
      `${join(folder, 'wrong.yml')}: flows[0].steps[0].capture.token.json: "data.token" must start with "$" (e.g. $.data.token)`,
    );
    expect(output).toContain(
      `${join(folder, 'wrong.yml')}: flows[0].steps[1].think: "soon" is not a duration`,
    );
    expect(products.length).toBe(before);
  });
});
