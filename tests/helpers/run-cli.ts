import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = `${REPO_ROOT}apps/cli/dist/main.js`;
const SOURCE = `${REPO_ROOT}apps/cli/src/main.ts`;

/**
 * The `aipo` command as a child process: the built CLI when `npm test` has built it, otherwise the
 * TypeScript source through tsx with the `@aipo/source` condition (no build needed).
 * AIPO_E2E_SOURCE=1 forces the source.
 */
export function cliCommand(): string[] {
  if (existsSync(BUILT) && process.env.AIPO_E2E_SOURCE !== '1') return ['--no-node-snapshot', BUILT];
  return ['--no-node-snapshot', '--conditions=@aipo/source', '--import', 'tsx', SOURCE];
}

export function spawnCli(args: string[], options: { env?: Record<string, string> } = {}): ChildProcess {
  return spawn(process.execPath, [...cliCommand(), ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Run `aipo ...` to completion and collect its exit code and output. */
export function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdin?.end(options.stdin ?? '');
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
