import { createRegistry } from '@aipo/core';
import type { Benchmark, BenchmarkRegistry } from '../benchmark';
import { aime2024, aime2025 } from './aime';
import { gpqaDiamond } from './gpqa-diamond';
import { livecodebench } from './livecodebench';
import { math500 } from './math500';

/** Every built-in benchmark, in `aipo bench list` order. Add a new one here (see README "Add a benchmark"). */
export const BUILTIN_BENCHMARKS: readonly Benchmark[] = [aime2024, aime2025, math500, gpqaDiamond, livecodebench];

/** A fresh registry holding the built-ins; register your own benchmarks on it. */
export function builtinBenchmarks(): BenchmarkRegistry {
  return createRegistry<Benchmark>('benchmark', BUILTIN_BENCHMARKS.map((benchmark) => [benchmark.id, benchmark] as const));
}
