// Where the local stack's log goes: JSON lines on stdout, or short lines on a terminal and the JSON in a file.

import { createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, LogFormat } from '../config/config.ts';
import { createLogger, type Logger } from '../log/logger.ts';
import { createTerminalLog } from '../log/terminal.ts';
import { dataDirectory } from './stack.ts';

/** Past this size at start-up, api.log becomes api.log.1 (replacing the one before): a load test writes fast. */
export const LOG_FILE_ROTATE_BYTES = 64 * 1024 * 1024;

/** auto means short lines only for a person: a terminal. A pipe, a file or a log collector gets JSON. */
export function terminalLogWanted(format: LogFormat, stdoutIsTerminal: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && stdoutIsTerminal);
}

export interface StackLog {
  logger: Logger;
  /** The file holding the full JSON log, when the terminal shows short lines. */
  file: string | null;
  close(): Promise<void>;
}

export function createStackLog(
  config: Config,
  options: { stdoutIsTerminal: boolean; out?: (text: string) => void },
): StackLog {
  const fields = { service: config.service, stage: config.stage };
  const out = options.out ?? ((text: string) => process.stdout.write(text));
  if (!terminalLogWanted(config.logFormat, options.stdoutIsTerminal)) {
    return {
      logger: createLogger({ level: config.logLevel, fields, write: (line) => out(`${line}\n`) }),
      file: null,
      close: async () => undefined,
    };
  }
  const dir = dataDirectory(config);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'api.log');
  if (existsSync(file) && statSync(file).size > LOG_FILE_ROTATE_BYTES) renameSync(file, `${file}.1`);
  // Appended, owner-only like the rest of the data directory's secrets: it names every request.
  const stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
  const terminal = createTerminalLog({ out });
  const logger = createLogger({
    level: config.logLevel,
    fields,
    write: (line, entry) => {
      stream.write(`${line}\n`);
      terminal.write(entry);
    },
  });
  return {
    logger,
    file,
    close: () =>
      new Promise<void>((resolveClose) => {
        terminal.close();
        stream.end(() => resolveClose());
      }),
  };
}
