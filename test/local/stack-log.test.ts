import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/config.ts';
import { freePort } from '../../lib/local/embedded-postgres.ts';
import { createStackLog, LOG_FILE_ROTATE_BYTES } from '../../lib/local/stack-log.ts';
import { startCli } from '../support/cli.ts';
import { scratchDataDir } from '../support/data-dir.ts';

describe('loadwatch start with short log lines (a terminal, or LOG_FORMAT=pretty)', () => {
  it('folds a burst of requests into summary lines and keeps the full JSON log in api.log', async () => {
    const dataDir = scratchDataDir('stack-log');
    const port = await freePort();
    const stack = startCli(['start'], {
      LOADWATCH_DATA_DIR: dataDir.path,
      PORT: String(port),
      LOG_FORMAT: 'pretty',
      LOG_LEVEL: 'info',
    });
    const logFile = join(dataDir.path, 'api.log');
    try {
      const banner = await stack.waitFor(/Ctrl-C stops everything/);
      expect(banner).toContain(
        `log          ${logFile}   (the full JSON log; here, short lines and one summary a second)`,
      );
      const burst = 600;
      for (let batch = 0; batch < burst / 50; batch++) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, () =>
            fetch(`http://127.0.0.1:${port}/health`).then((response) => response.status),
          ),
        );
        expect(new Set(answers)).toEqual(new Set([200]));
      }
      await stack.waitFor(/last 1s: \d+ more requests/, 5_000);
    } finally {
      stack.child.kill('SIGTERM');
      await stack.exited;
    }
    const output = stack.output();
    expect(output).not.toContain('{"time"');
    expect(output.split('\n').filter((line) => /GET \/health 200/.test(line)).length).toBeLessThanOrEqual(3);
    const logged = readFileSync(logFile, 'utf8')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; path?: string });
    expect(
      logged.filter((entry) => entry.msg === 'request' && entry.path === '/health').length,
    ).toBeGreaterThanOrEqual(600);
    dataDir.remove();
  });
});

describe('createStackLog', () => {
  it('moves a log file grown past its limit aside at start-up, keeping one previous file', async () => {
    const dataDir = scratchDataDir('stack-log-rotate');
    const file = join(dataDir.path, 'api.log');
    writeFileSync(file, 'x');
    truncateSync(file, LOG_FILE_ROTATE_BYTES + 1);
    const config = loadConfig({ LOADWATCH_DATA_DIR: dataDir.path, LOG_FORMAT: 'pretty' });
    const log = createStackLog(config, { stdoutIsTerminal: false, out: () => undefined });
    log.logger.info('after rotation');
    await log.close();
    expect(statSync(`${file}.1`).size).toBe(LOG_FILE_ROTATE_BYTES + 1);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ msg: 'after rotation' });
    dataDir.remove();
  });
});
