// Runs the Serverless CLI on a copy of the project, with no AWS account, and makes sure every run ends.

import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

// `sls` empties <service>/.serverless and <service>/.esbuild whatever --package says, so it runs on a copy of
// the working tree: a developer's own package, or another test run, is never deleted half-way.
const NOT_COPIED = new Set([
  'node_modules',
  '.git',
  '.loadwatch',
  '.serverless',
  '.esbuild',
  'coverage',
  'test-results',
]);

/** Copies the project into `into` (which must not exist), sharing its node_modules. */
export function copyProject(into: string): void {
  mkdirSync(into);
  for (const entry of readdirSync(projectRoot)) {
    if (!NOT_COPIED.has(entry)) cpSync(join(projectRoot, entry), join(into, entry), { recursive: true });
  }
  symlinkSync(join(projectRoot, 'node_modules'), join(into, 'node_modules'), 'dir');
}

export interface ServerlessRun {
  stdout: string;
  stderr: string;
}

/**
 * Runs `npx sls <args>` in project with this process's environment less every AWS credential, plus `env`.
 * Rejects when it fails, and kills its whole process group (npx, sls, esbuild) when it outlives timeoutMs.
 */
export function runServerless(
  project: string,
  args: string[],
  options: { timeoutMs: number; env?: Record<string, string> },
): Promise<ServerlessRun> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    AWS_EC2_METADATA_DISABLED: 'true',
    // No AWS account at all: nothing may resolve through AWS.
    AWS_SHARED_CREDENTIALS_FILE: join(project, 'no-credentials'),
    AWS_CONFIG_FILE: join(project, 'no-config'),
    ...options.env,
  };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
    delete env[name];
  }
  const command = `sls ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    // Its own process group, so that a timeout can end everything it started.
    const child = spawn('npx', ['sls', ...args], {
      cwd: project,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const output = `\n${stdout}\n${stderr}`;
      if (timedOut) {
        reject(new Error(`${command} did not exit within ${options.timeoutMs} ms; killed:${output}`));
      } else if (code !== 0) {
        reject(new Error(`${command} failed (${signal ?? `exit ${code}`}):${output}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}
