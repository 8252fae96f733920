import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILT = `${REPO_ROOT}apps/cli/dist/main.js`;
const SOURCE = `${REPO_ROOT}apps/cli/src/main.ts`;

const SOURCE_DIRS = ['apps/cli/src', 'packages/bench/src', 'packages/graders/src', 'packages/core/src', 'packages/trainer/src', 'packages/agents/src'];

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The build is usable when it exists and no source it bundles or imports changed after it. */
function builtIsFresh(): boolean {
  if (!existsSync(BUILT)) return false;
  const built = statSync(BUILT).mtimeMs;
  return SOURCE_DIRS.every((dir) => !existsSync(`${REPO_ROOT}${dir}`) || newestSource(`${REPO_ROOT}${dir}`) <= built);
}

/**
 * The `aipo` command as a child process: the built CLI after `npm test` has built it, otherwise
 * (no build, or sources newer than it) the TypeScript source through tsx with the `@aipo/source`
 * condition. AIPO_E2E_SOURCE=1 forces the source.
 */
const COMMAND =
  process.env.AIPO_E2E_SOURCE !== '1' && builtIsFresh()
    ? ['--no-node-snapshot', BUILT]
    : ['--no-node-snapshot', '--conditions=@aipo/source', '--import', 'tsx', SOURCE];

export function cliCommand(): string[] {
  return COMMAND;
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
