// A hostile target and hostile input through the real CLI: nothing reaches the terminal raw but the CLI's own redraw.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../lib/cli/io.ts';
import { runCli as runCliInProcess } from '../../lib/cli/main.ts';
import { runCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { type FaultTarget, startFaultTarget } from '../support/fault-target.ts';
import { rawControls } from '../support/terminal.ts';

/** How the hostile strings read once escaped. */
const SHOWN = '\\x1b]0;PWNED\\x07\\x1b[31m\\x9b2J\\r\\x1b[1A';
/** The live table's own redraw: cursor up N lines, clear to the end. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the CLI's own escape sequence, matched to be set aside
const REDRAW = /\x1b\[\d+A\x1b\[J/g;

describe('terminal output of loadwatch monitor', () => {
  const dataDir = scratchDataDir('terminal-safety');
  const checksFile = join(dataDir.path, 'hostile.json');
  let target: FaultTarget;
  let database: TestDatabase;

  beforeAll(async () => {
    target = await startFaultTarget();
    await target.set('hostile');
    database = await createTestDatabase();
    const rules = { down: { consecutive: 1 }, reminderMinutes: 0, errorRate: null };
    writeFileSync(
      checksFile,
      JSON.stringify({
        checks: [
          { name: 'ready', endpoint: '/health/ready', kind: 'database', timeout: 800, rules },
          {
            name: 'cors',
            endpoint: '/health',
            kind: 'cors',
            expectStatus: 500,
            cors: { allowedOrigin: 'https://app.test' },
            timeout: 800,
            rules,
          },
        ],
      }),
    );
  });
  afterAll(async () => {
    await target?.close();
    await database?.drop();
    dataDir.remove();
  });

  const env = () => ({ LOADWATCH_DATA_DIR: dataDir.path, DATABASE_URL: database.url });

  it('escapes what a hostile target answers in the table, the alerts and the report', async () => {
    const result = await runCli(['monitor', '--target', target.url, '--config', checksFile, '--once'], env());
    expect(result.code).toBe(1);
    expect(rawControls(result.output)).toEqual([]);
    // The body's strings in the readiness verdict, and the header's C1 in the CORS verdict, shown escaped.
    expect(result.output).toContain(`migrations pending: ${SHOWN}`);
    expect(result.output).toContain('Access-Control-Allow-Origin is https://evil.test\\x9b31m');
    expect(result.output).toMatch(/\[ALARM\] loadwatch\/local: ready is down/);
    expect(result.output).toMatch(/total\s+2 ALARM/);
  });

  it('prints the JSON report with C1 controls as \\u escapes, still parseable', async () => {
    const result = await runCli(
      ['monitor', '--target', target.url, '--config', checksFile, '--once', '--json'],
      env(),
    );
    expect(rawControls(result.output)).toEqual([]);
    const report = JSON.parse(result.output.slice(result.output.indexOf('{\n')));
    const cors = report.checks.find((check: { name: string }) => check.name === 'cors');
    expect(cors.last.error).toContain('https://evil.test\x9b31m');
  });

  it('keeps its own redraw sequences on a terminal and nothing else', async () => {
    let output = '';
    const io: CliIo = {
      out: (text) => {
        output += text;
      },
      err: (text) => {
        output += text;
      },
      env: env(),
      errIsTerminal: true,
    };
    const code = await runCliInProcess(
      ['monitor', '--target', target.url, '--config', checksFile, '--interval', '1', '--duration', '2'],
      io,
    );
    expect(code).toBe(1);
    expect(output.match(REDRAW)?.length).toBeGreaterThan(0);
    expect(rawControls(output.replace(REDRAW, ''))).toEqual([]);
    expect(output).toContain(SHOWN);
  }, 20_000);

  it('escapes the headers a hostile target answers in prodtest results, text and JSON', async () => {
    const args = [
      'prodtest',
      '--base-url',
      target.url,
      '--test',
      'cors',
      '--allowed-origin',
      'https://app.test',
    ];
    const text = await runCli(args, env());
    expect(text.code).toBe(1);
    expect(rawControls(text.output)).toEqual([]);
    expect(text.output).toContain('Access-Control-Allow-Origin is https://evil.test\\x9b31m');
    const json = await runCli([...args, '--json'], env());
    expect(rawControls(json.output)).toEqual([]);
    expect(JSON.stringify(JSON.parse(json.output))).toContain('https://evil.test\x9b31m');
  });

  it('escapes flags, targets and checks-file values it echoes in an error', async () => {
    const badTarget = await runCli(['monitor', '--target', 'http://x\x1b]0;PWNED\x07', '--once'], env());
    expect(badTarget.code).toBe(2);
    expect(rawControls(badTarget.output)).toEqual([]);
    expect(badTarget.output).toContain('--target: "http://x\\x1b]0;PWNED\\x07" is not an http(s) URL');

    const badFlag = await runCli(['monitor', '--\x1b[31mloud'], env());
    expect(badFlag.code).toBe(2);
    expect(rawControls(badFlag.output)).toEqual([]);
    expect(badFlag.output).toContain('\\x1b[31mloud');

    const hostileFile = join(dataDir.path, 'hostile-endpoint.json');
    writeFileSync(
      hostileFile,
      JSON.stringify({ checks: [{ name: 'x', endpoint: '/\x1b]0;PWNED\x07', url: 'http://\x9b2J/' }] }),
    );
    const badFile = await runCli(['monitor', '--config', hostileFile, '--once'], env());
    expect(badFile.code).toBe(2);
    expect(rawControls(badFile.output)).toEqual([]);
    expect(badFile.output).toContain('"http://\\x9b2J/" is not an http(s) URL');
  });
});
