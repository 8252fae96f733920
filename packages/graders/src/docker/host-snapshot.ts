// Test support (not exported): fingerprint host directories to prove sandboxed code changed nothing.
import { lstatSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** name, size and mtime of every entry below `root`, sorted */
export function snapshotTree(root: string): string[] {
  const entries: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const stat = lstatSync(path);
      entries.push(`${path}\t${stat.size}\t${stat.mtimeMs}\t${stat.mode}`);
      if (stat.isDirectory()) walk(path);
    }
  };
  walk(root);
  return entries;
}

/** A host directory with a canary file that no sandboxed program may touch. */
export function createCanaryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aipo-canary-'));
  writeFileSync(join(dir, 'canary.txt'), 'untouched\n');
  return dir;
}
