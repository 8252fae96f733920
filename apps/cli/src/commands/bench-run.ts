import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { builtinBenchmarks, checkThresholds, createSampler, runBenchmark, type RunSummary, summarizeRun, writeReports, type ReportFormat } from '@aipo/bench';
import { AipoError } from '@aipo/core';
import type { Command } from 'commander';
import { type BenchConfig, loadConfig } from '../config/cli-config';
import { resolveGrader } from '../graders/resolve-grader';
import { createProgress } from '../output/progress';
import { summaryTable } from '../output/summary-table';
import type { CliContext } from '../run';
import { chooseTemplate, collect, loadOptions, localDatasetPath, numberFlag, parseMinScores } from './bench-options';

interface RunFlags {
  config?: string;
  model?: string;
  baseUrl?: string;
  samples?: number;
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  seed?: number;
  timeout?: number;
  concurrency?: number;
  maxAttempts?: number;
  gradeConcurrency?: number;
  dataDir?: string;
  dataset: string[];
  release?: string;
  since?: string;
  until?: string;
  limit?: number;
  template?: string;
  promptFile?: string;
  chatTemplate?: string;
  output?: string;
  resume?: boolean;
  overwrite?: boolean;
  retryErrors?: boolean;
  minScore: string[];
  format: string[];
  progress: boolean;
  sandboxImage?: string;
}

function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `${flag} is required (as a flag or in --config)` });
  return value;
}

export function registerBenchRun(bench: Command, context: CliContext): void {
  bench
    .command('run')
    .description('sample a model on benchmarks through an OpenAI-compatible endpoint, grade, and report')
    .argument('[benchmarks...]', 'benchmark ids (see `aipo bench list`)')
    .option('-c, --config <file>', 'YAML or JSON config with any of these settings (flags win)')
    .option('-m, --model <name>', 'model name sent to the endpoint')
    .option('--base-url <url>', 'OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (key from OPENAI_API_KEY)')
    .option('-n, --samples <n>', 'samples per problem (pass@1 is mean@n)', numberFlag('samples', { integer: true, min: 1 }))
    .option('--temperature <t>', 'sampling temperature', numberFlag('temperature', { min: 0, max: 2 }))
    .option('--top-p <p>', 'nucleus sampling mass', numberFlag('top-p', { min: 0, max: 1 }))
    .option('--max-tokens <n>', 'completion token budget', numberFlag('max-tokens', { integer: true, min: 1 }))
    .option('--seed <n>', 'run seed; per-sample seeds derive from it (default 0)', numberFlag('seed', { integer: true }))
    .option('--timeout <ms>', 'per-request deadline in ms (default 300000)', numberFlag('timeout', { integer: true, min: 1 }))
    .option('--concurrency <n>', 'maximum requests in flight; halves on 429 (default 8)', numberFlag('concurrency', { integer: true, min: 1 }))
    .option('--max-attempts <n>', 'attempts per sample before it is recorded as an API error (default 8)', numberFlag('max-attempts', { integer: true, min: 1 }))
    .option('--grade-concurrency <n>', 'graders running at once (default 4)', numberFlag('grade-concurrency', { integer: true, min: 1 }))
    .option('--data-dir <dir>', 'local folder with one sub-folder per benchmark (offline; default: the Hugging Face hub)')
    .option('--dataset <id=path>', 'local file or folder for one benchmark (repeatable)', collect, [])
    .option('--release <tag>', 'LiveCodeBench release: release_v1 … release_v6, release_latest, v5, v4_v5')
    .option('--since <YYYY-MM-DD>', 'keep problems dated on or after this day (LiveCodeBench)')
    .option('--until <YYYY-MM-DD>', 'keep problems dated on or before this day (LiveCodeBench)')
    .option('--limit <n>', 'only the first n problems of each benchmark', numberFlag('limit', { integer: true, min: 1 }))
    .option('--template <name>', 'named prompt template of the benchmark (e.g. livecodebench: reasoning)')
    .option('--prompt-file <file>', 'custom prompt template (YAML/JSON with user and optional system; {placeholders})')
    .option('--chat-template <file>', "render prompts with this Jinja chat template and use the completions endpoint")
    .option('-o, --output <dir>', 'where results (<benchmark>.results.jsonl) and reports go (default ./aipo-results)')
    .option('--resume', 'continue a killed run from its results file without re-asking finished samples')
    .option('--overwrite', 'replace existing results files')
    .option('--retry-errors', 'with --resume, ask again for samples that ended as API errors')
    .option('--min-score <score>', 'fail with exit code 100 when pass@1 is below: 0.42 or math500=0.42 (repeatable)', collect, [])
    .option('--format <formats>', 'reports to write: json,markdown,junit,html (default all)', collect, [])
    .option('--no-progress', 'no progress bars (they are off anyway when stderr is not a terminal)')
    .option('--sandbox-image <image>', 'Docker image for code benchmarks (default aipo-sandbox-python:3)')
    .action(async (ids: string[], flags: RunFlags) => {
      const config: BenchConfig = flags.config === undefined ? {} : await loadConfig(flags.config);
      const registry = builtinBenchmarks();
      const benchmarkIds = ids.length > 0 ? ids : required(config.benchmarks, 'at least one benchmark id');
      const benchmarks = benchmarkIds.map((id) => registry.get(id));
      const model = required(flags.model ?? config.model, '--model');
      const baseURL = required(flags.baseUrl ?? config.baseUrl, '--base-url');
      const output = flags.output ?? config.output ?? 'aipo-results';
      const seed = flags.seed ?? config.seed ?? 0;
      const n = flags.samples ?? config.samples ?? 1;
      const datasets: Record<string, string> = { ...config.datasets };
      for (const entry of flags.dataset) {
        const [id, path] = entry.split('=', 2);
        if (!id || !path) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `--dataset wants ID=PATH, got "${entry}"` });
        datasets[id] = path;
      }
      const minScores = parseMinScores(flags.minScore, config.minScore);
      const formats = (flags.format.length > 0 ? flags.format : (config.formats ?? ['json', 'markdown', 'junit', 'html'])) as ReportFormat[];
      const sampling = Object.fromEntries(
        Object.entries({
          temperature: flags.temperature ?? config.temperature,
          topP: flags.topP ?? config.topP,
          maxTokens: flags.maxTokens ?? config.maxTokens,
          stop: config.stop,
          extraBody: config.extraBody,
        }).filter(([, value]) => value !== undefined),
      );
      const chatTemplatePath = flags.chatTemplate ?? config.chatTemplate;
      const chatTemplate = chatTemplatePath === undefined ? undefined : await readFile(chatTemplatePath, 'utf8');
      await mkdir(output, { recursive: true });

      const summaries: RunSummary[] = [];
      for (const benchmark of benchmarks) {
        const path = localDatasetPath({ benchmark, datasets, dataDir: flags.dataDir ?? config.dataDir });
        const dataset = loadOptions({ path, release: flags.release ?? config.release, since: flags.since ?? config.since, until: flags.until ?? config.until, seed });
        const limit = flags.limit ?? config.limit;
        const allItems = await benchmark.load(dataset);
        const items = limit === undefined ? allItems : allItems.slice(0, limit);
        const { template, name: templateName } = await chooseTemplate({ benchmark, name: flags.template ?? config.template, promptFile: flags.promptFile, prompt: config.prompt });
        const sandboxImage = flags.sandboxImage ?? config.sandboxImage;
        const { grader, close } = await resolveGrader(benchmark.graderId, sandboxImage === undefined ? {} : { sandboxImage });
        const sampler = createSampler({
          baseURL,
          model,
          apiKey: process.env[config.apiKeyEnv ?? 'OPENAI_API_KEY'] ?? 'EMPTY',
          ...(flags.timeout ?? config.timeoutMs ? { timeoutMs: flags.timeout ?? config.timeoutMs } : {}),
          ...(flags.maxAttempts ?? config.maxAttempts ? { maxAttempts: flags.maxAttempts ?? config.maxAttempts } : {}),
          concurrency: flags.concurrency ?? config.concurrency ?? 8,
          ...(chatTemplate === undefined ? {} : { mode: 'completion' as const, chatTemplate }),
        });
        const progress = createProgress({ label: benchmark.id, enabled: flags.progress && config.progress !== false });
        try {
          const outcome = await runBenchmark({
            header: { benchmark: benchmark.id, model, template: templateName, sampling, seed, n, dataset: { ...dataset, ...(limit === undefined ? {} : { limit }) } },
            items,
            template,
            grader,
            sampler,
            resultsPath: join(output, `${benchmark.id}.results.jsonl`),
            resume: flags.resume ?? config.resume ?? false,
            overwrite: flags.overwrite ?? config.overwrite ?? false,
            retryErrors: flags.retryErrors ?? config.retryErrors ?? false,
            gradeConcurrency: flags.gradeConcurrency ?? config.gradeConcurrency ?? 4,
            ...(benchmark.answerVoting === undefined ? {} : { voting: benchmark.answerVoting }),
            signal: context.signal,
            onProgress: (event) => progress.update(event),
          });
          summaries.push(summarizeRun({ benchmark: benchmark.id, model, n, items, verdicts: outcome.verdicts, breakdowns: benchmark.breakdowns, seed }));
        } finally {
          progress.stop();
          await close();
        }
      }
      await writeReports({ summaries, directory: output, formats });
      process.stdout.write(`${summaryTable(summaries)}\nresults and reports in ${output}\n`);
      context.exitCode = gate(summaries, minScores);
    });
}

/** Print threshold failures and return the exit code (100 when any benchmark is below its minimum). */
export function gate(summaries: readonly RunSummary[], minScores: Record<string, number>): number {
  const failures = checkThresholds({ summaries, minScores });
  for (const failure of failures) {
    process.stderr.write(`aipo: ${failure.benchmark} pass@1 ${(failure.score * 100).toFixed(1)}% is below --min-score ${(failure.minimum * 100).toFixed(1)}%\n`);
  }
  return failures.length > 0 ? 100 : 0;
}
