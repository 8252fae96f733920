import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Benchmark, LoadOptions, PromptTemplate } from '@aipo/bench';
import { AipoError } from '@aipo/core';
import { parse as parseYaml } from 'yaml';
import type { BenchConfig } from '../config/cli-config';

/** Parse `--min-score 0.4` (all benchmarks) or `--min-score math500=0.42` (repeatable). */
export function parseMinScores(values: readonly string[], fromConfig: BenchConfig['minScore']): Record<string, number> {
  const scores: Record<string, number> = typeof fromConfig === 'number' ? { '*': fromConfig } : { ...fromConfig };
  for (const value of values) {
    const [name, score] = value.includes('=') ? (value.split('=', 2) as [string, string]) : ['*', value];
    const number = Number(score);
    if (score.trim() === '' || !Number.isFinite(number) || number < 0 || number > 1) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `--min-score wants a number in [0, 1] or BENCHMARK=NUMBER, got "${value}"` });
    }
    scores[name] = number;
  }
  return scores;
}

/** A number flag: rejects NaN and junk instead of sending it to the server. */
export function numberFlag(name: string, { integer = false, min = -Infinity, max = Infinity } = {}) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || (integer && !Number.isInteger(number)) || number < min || number > max) {
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `--${name} wants ${integer ? 'an integer' : 'a number'}${min > -Infinity ? ` >= ${min}` : ''}${max < Infinity ? ` <= ${max}` : ''}, got "${value}"` });
    }
    return number;
  };
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').filter((part) => part !== '')];

/**
 * Where a benchmark's data lives locally: an explicit `--dataset id=path`, or a folder under
 * `--data-dir` named after the id or its first word (`gpqa-diamond` → `gpqa`). Undefined = hub.
 */
export function localDatasetPath({ benchmark, datasets, dataDir }: { benchmark: Benchmark; datasets: Record<string, string>; dataDir: string | undefined }): string | undefined {
  const explicit = datasets[benchmark.id];
  if (explicit !== undefined) return explicit;
  if (dataDir === undefined) return undefined;
  for (const name of [benchmark.id, benchmark.id.split('-')[0] as string]) {
    if (existsSync(join(dataDir, name))) return join(dataDir, name);
  }
  throw new AipoError({ code: 'IO_ERROR', message: `--data-dir ${dataDir} has no folder for ${benchmark.id}`, details: { dataDir, benchmark: benchmark.id } });
}

export function loadOptions(parts: { path: string | undefined; release?: string | undefined; since?: string | undefined; until?: string | undefined; seed: number }): LoadOptions {
  return Object.fromEntries(Object.entries(parts).filter(([, value]) => value !== undefined)) as LoadOptions;
}

/** The template to use: a prompt file or config prompt, else a named template of the benchmark. */
export async function chooseTemplate({ benchmark, name, promptFile, prompt }: { benchmark: Benchmark; name: string | undefined; promptFile: string | undefined; prompt: PromptTemplate | undefined }): Promise<{ template: PromptTemplate; name: string }> {
  if (promptFile !== undefined) {
    const raw = parseYaml(await readFile(promptFile, 'utf8')) as unknown;
    if (typeof raw !== 'object' || raw === null || typeof (raw as PromptTemplate).user !== 'string') {
      throw new AipoError({ code: 'INVALID_CONFIG', message: `${promptFile}: a prompt file needs a "user" string (and optionally "system")` });
    }
    const { system, user } = raw as PromptTemplate;
    return { template: system === undefined ? { user } : { system, user }, name: `file:${promptFile}` };
  }
  if (prompt !== undefined) return { template: prompt, name: 'custom' };
  const key = name ?? 'default';
  const template = benchmark.templates[key];
  if (template === undefined) {
    throw new AipoError({ code: 'UNKNOWN_ENTRY', message: `${benchmark.id} has no template "${key}" (available: ${Object.keys(benchmark.templates).join(', ')})` });
  }
  return { template, name: key };
}
