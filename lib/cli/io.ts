// What every command shares: what it reads and writes (the process's streams and environment, or a test's
// stand-ins), and the shape the command registry holds.

import type { Config } from '../config/config.ts';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  /** stderr is a terminal: live displays may redraw in place. */
  errIsTerminal?: boolean;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  errIsTerminal: process.stderr.isTTY === true,
  env: process.env,
};

/** One entry of the registry: its help (which shows the configuration it would use) and what it runs. */
export interface Command {
  help(config: Config): string;
  run(args: string[], config: Config, io: CliIo): Promise<number>;
}
