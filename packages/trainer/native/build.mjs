#!/usr/bin/env node
// Builds the optional native matmul addon (build/aipo-sgemm.node) with the system C++ compiler and
// Node's own headers. Never fails the install: without a compiler, headers or an x86-64 CPU it
// prints why and exits 0, and the trainer keeps its WebAssembly kernels (select-backend reports it).
//   node native/build.mjs            build if missing or older than the sources
//   node native/build.mjs --force    rebuild
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const output = join(here, 'build', 'aipo-sgemm.node');
const sources = ['addon.cc', 'sgemm-avx2.cc', 'sgemm.h'].map((file) => join(here, 'src', file));

function nodeHeaders() {
  const candidates = [process.env.npm_config_nodedir, resolve(process.execPath, '..', '..')].filter(Boolean);
  return candidates.map((dir) => join(dir, 'include', 'node')).find((dir) => existsSync(join(dir, 'node_api.h')));
}

export function buildNative({ force = false } = {}) {
  if (process.arch !== 'x64') return { built: false, reason: `no native kernel for ${process.arch}` };
  const newest = Math.max(...sources.map((file) => statSync(file).mtimeMs));
  if (!force && existsSync(output) && statSync(output).mtimeMs >= newest) return { built: true, reason: 'up to date', path: output };
  const headers = nodeHeaders();
  if (headers === undefined) return { built: false, reason: "Node's C headers were not found (set npm_config_nodedir)" };
  const compiler = process.env.CXX ?? 'g++';
  mkdirSync(join(here, 'build'), { recursive: true });
  const temporary = `${output}.${process.pid}.tmp`;
  const common = ['-O3', '-ffp-contract=off', '-std=c++17', '-fPIC', '-fvisibility=hidden', `-I${headers}`, '-DNODE_GYP_MODULE_NAME=aipo_sgemm'];
  try {
    // Only the kernel unit gets -mavx2 -mfma; the glue stays generic and checks the CPU at run time.
    const kernel = `${temporary}.kernel.o`;
    const glue = `${temporary}.glue.o`;
    execFileSync(compiler, [...common, '-mavx2', '-mfma', '-c', join(here, 'src', 'sgemm-avx2.cc'), '-o', kernel], { stdio: 'pipe' });
    execFileSync(compiler, [...common, '-c', join(here, 'src', 'addon.cc'), '-o', glue], { stdio: 'pipe' });
    execFileSync(compiler, ['-shared', '-o', temporary, kernel, glue], { stdio: 'pipe' });
    rmSync(kernel, { force: true });
    rmSync(glue, { force: true });
    // Atomic: concurrent builds (parallel test workers) never expose a half-written file.
    renameSync(temporary, output);
    return { built: true, reason: `compiled with ${compiler}`, path: output };
  } catch (error) {
    for (const suffix of ['', '.kernel.o', '.glue.o']) rmSync(`${temporary}${suffix}`, { force: true });
    const detail = error instanceof Error ? (error.stderr?.toString() || error.message).split('\n')[0] : String(error);
    return { built: false, reason: `compiler ${compiler} failed: ${detail}` };
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = buildNative({ force: process.argv.includes('--force') });
  process.stdout.write(`aipo native matmul: ${result.built ? `ready (${result.reason})` : `skipped (${result.reason}); the wasm kernels are used`}\n`);
}
