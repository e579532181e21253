// Runs the loadwatch command as a user would, on this Node, and watches its output.

import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../lib/local/stack.ts';

export const CLI = join(projectRoot(), 'lib', 'cli', 'loadwatch.js');

export interface CliRun {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the output once it matches, rejects if the process ends or time runs out first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
}

/** A clean environment: none of the caller's database or CORS settings leak into the command. */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn' };
  return { ...env, ...extra };
}

/** Runs the command; `cli` names another copy of the project's entry (a copy in a private directory). */
export function startCli(args: string[], env: Record<string, string>, cli = CLI): CliRun {
  const child = spawn(process.execPath, [cli, ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          clearInterval(poll);
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`));
        }, timeoutMs);
        const poll = setInterval(() => {
          if (pattern.test(output)) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve(output);
          }
        }, 25);
        exited.then((code) => {
          setTimeout(() => {
            if (pattern.test(output)) return;
            clearInterval(poll);
            clearTimeout(timer);
            reject(new Error(`exited with ${code} before ${pattern}; output:\n${output}`));
          }, 50);
        });
      });
    },
  };
}

export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000) {
  const run = startCli(args, env);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, output: run.output() };
}
