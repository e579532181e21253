// What a command reads and writes: the process's streams and environment, or a test's stand-ins.

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
