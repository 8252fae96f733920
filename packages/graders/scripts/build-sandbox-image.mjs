#!/usr/bin/env node
// Build the Python sandbox image for @aipo/graders/docker (plain Node ESM: `.ci/run` calls it right
// after `npm ci`, before anything is built). Idempotent: it exits at once when the image exists.
//
//   node packages/graders/scripts/build-sandbox-image.mjs [--image NAME] [--force] [--no-pull]
//                                                          [--pull-only] [--rootfs DIR] [--mirror URL]
//
// 1. `--image` (default aipo-sandbox-python:3) already present → done.
// 2. A registry image (`python:3.12-slim`, or AIPO_SANDBOX_BASE_IMAGE) can be pulled → tag it.
// 3. Otherwise build from a Debian root: `debootstrap --variant=minbase --include=python3 bookworm DIR`
//    (python3-minimal lacks the stdlib LiveCodeBench's prelude imports), then
//    `tar -C DIR -c . | docker import - NAME`. Needs root and debootstrap; `--rootfs DIR` reuses a
//    finished root instead of bootstrapping again.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name, fallback) => {
  const index = args.indexOf(name);
  return index >= 0 && args[index + 1] ? args[index + 1] : fallback;
};
const image = option('--image', process.env.AIPO_SANDBOX_IMAGE ?? 'aipo-sandbox-python:3');
const baseImage = process.env.AIPO_SANDBOX_BASE_IMAGE ?? 'python:3.12-slim';
const mirror = option('--mirror', process.env.AIPO_DEBIAN_MIRROR);
const suite = 'bookworm';

const log = (message) => process.stdout.write(`sandbox-image: ${message}\n`);
const run = (command, commandArgs, options = {}) => spawnSync(command, commandArgs, { encoding: 'utf8', ...options });

function fail(message) {
  process.stderr.write(`sandbox-image: ${message}\n`);
  process.exit(1);
}

if (run('docker', ['version', '--format', '{{.Server.Version}}']).status !== 0) {
  fail('no Docker engine reachable (set DOCKER_HOST or start dockerd)');
}

if (!flag('--force') && run('docker', ['image', 'inspect', image]).status === 0) {
  log(`${image} already exists`);
  process.exit(0);
}

function works(name) {
  const probe = run('docker', [
    'run',
    '--rm',
    '--network',
    'none',
    name,
    'python3',
    '-c',
    'import json, statistics, ctypes; print(1)',
  ]);
  return probe.status === 0 && probe.stdout.trim() === '1';
}

if (!flag('--no-pull')) {
  log(`trying registry image ${baseImage}`);
  const pull = run('docker', ['pull', baseImage], { timeout: 300_000 });
  if (pull.status === 0 && works(baseImage)) {
    if (run('docker', ['tag', baseImage, image]).status !== 0) fail(`docker tag ${baseImage} ${image} failed`);
    log(`tagged ${baseImage} as ${image}`);
    process.exit(0);
  }
  const why = (pull.stderr || pull.error?.message || '').trim().split('\n').pop();
  if (flag('--pull-only')) fail(`could not pull ${baseImage} (${why}) and --pull-only forbids a Debian build`);
  log(`no registry image (${why}); building from Debian`);
}

let rootfs = option('--rootfs', process.env.AIPO_SANDBOX_ROOTFS);
let temporary;
if (rootfs && existsSync(join(rootfs, 'usr/bin/python3'))) {
  log(`reusing root filesystem ${rootfs}`);
} else {
  if (run('debootstrap', ['--version']).error) fail('debootstrap is not installed (apt-get install debootstrap)');
  if (process.getuid?.() !== 0) fail('debootstrap needs root');
  temporary = mkdtempSync(join(tmpdir(), 'aipo-rootfs-'));
  rootfs = temporary;
  log(`debootstrap ${suite} into ${rootfs} (several minutes)`);
  const bootstrap = run(
    'debootstrap',
    ['--variant=minbase', '--include=python3', suite, rootfs, ...(mirror ? [mirror] : [])],
    { stdio: 'inherit' },
  );
  if (bootstrap.status !== 0) fail('debootstrap failed');
  // caches and docs are dead weight in a read-only sandbox
  for (const path of ['var/cache/apt/archives', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man']) {
    rmSync(join(rootfs, path), { recursive: true, force: true });
  }
}

log(`importing ${rootfs} as ${image}`);
await new Promise((resolve) => {
  const tar = spawn('tar', ['-C', rootfs, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const load = spawn('docker', ['import', '--change', 'ENV LANG=C.UTF-8', '-', image], {
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  tar.stdout.pipe(load.stdin);
  load.on('close', (code) => {
    if (code !== 0) fail('docker import failed');
    resolve();
  });
});
if (temporary) rmSync(temporary, { recursive: true, force: true });
if (!works(image)) fail(`${image} does not run python3 with its standard library`);
log(`built ${image}`);
