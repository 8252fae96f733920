import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { builtinBenchmarks, readResultsHeader, regradeResults, type ReportFormat, type RunSummary, summarizeRun, writeReports } from '@aipo/bench';
import { AipoError } from '@aipo/core';
import Table from 'cli-table3';
import { plainStyle } from '../output/table-style';
import type { Command } from 'commander';
import { resolveGrader } from '../graders/resolve-grader';
import { summaryTable } from '../output/summary-table';
import type { CliContext } from '../run';
import { collect, parseMinScores } from './bench-options';
import { gate } from './bench-run';

const DEFAULT_FORMATS: ReportFormat[] = ['json', 'markdown', 'junit', 'html'];

export function registerBenchResults(bench: Command, context: CliContext): void {
  bench
    .command('grade')
    .description('re-grade saved generations (results .jsonl files) without calling a model, and report')
    .argument('<results...>', 'results files written by `aipo bench run`')
    .option('--dataset <path>', 'load the benchmark from this local path instead of the one recorded in the results')
    .option('-o, --output <dir>', 'where reports go (default: next to the first results file)')
    .option('--min-score <score>', 'exit 100 when pass@1 is below: 0.42 or math500=0.42 (repeatable)', collect, [])
    .option('--format <formats>', 'reports to write: json,markdown,junit,html (default all)', collect, [])
    .option('--sandbox-image <image>', 'Docker image for code benchmarks')
    .action(async (files: string[], flags: { dataset?: string; output?: string; minScore: string[]; format: string[]; sandboxImage?: string }) => {
      const registry = builtinBenchmarks();
      const summaries: RunSummary[] = [];
      for (const file of files) {
        const header = await readResultsHeader(file);
        const benchmark = registry.get(header.benchmark);
        const { limit, ...dataset } = header.dataset;
        const loaded = await benchmark.load(flags.dataset === undefined ? dataset : { ...dataset, path: flags.dataset });
        const items = limit === undefined ? loaded : loaded.slice(0, limit);
        const { grader, close } = await resolveGrader(benchmark.graderId, flags.sandboxImage === undefined ? {} : { sandboxImage: flags.sandboxImage });
        try {
          const { verdicts } = await regradeResults({ path: file, items, grader, signal: context.signal, ...(benchmark.answerVoting === undefined ? {} : { voting: benchmark.answerVoting }) });
          summaries.push(summarizeRun({ benchmark: benchmark.id, model: header.model, n: header.n, items, verdicts, breakdowns: benchmark.breakdowns, seed: header.seed }));
        } finally {
          await close();
        }
      }
      const directory = flags.output ?? dirname(files[0] as string);
      await writeReports({ summaries, directory, formats: flags.format.length > 0 ? (flags.format as ReportFormat[]) : DEFAULT_FORMATS });
      process.stdout.write(`${summaryTable(summaries)}\nreports in ${directory}\n`);
      context.exitCode = gate(summaries, parseMinScores(flags.minScore, undefined));
    });

  bench
    .command('report')
    .description('render reports again from a summary.json (no grading, no model)')
    .argument('<summary>', 'summary.json written by `aipo bench run` or `bench grade`')
    .option('-o, --output <dir>', 'where reports go (default: next to summary.json)')
    .option('--format <formats>', 'reports to write: markdown,junit,html,json (default markdown,junit,html)', collect, [])
    .option('--min-score <score>', 'exit 100 when pass@1 is below (repeatable)', collect, [])
    .action(async (file: string, flags: { output?: string; format: string[]; minScore: string[] }) => {
      let parsed: { summaries?: RunSummary[] };
      try {
        parsed = JSON.parse(await readFile(file, 'utf8')) as { summaries?: RunSummary[] };
      } catch (error) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `${file} is not a readable summary.json`, cause: error });
      }
      if (!Array.isArray(parsed.summaries)) throw new AipoError({ code: 'CORRUPT_STATE', message: `${file} has no "summaries" array` });
      const directory = flags.output ?? dirname(file);
      const formats = flags.format.length > 0 ? (flags.format as ReportFormat[]) : (['markdown', 'junit', 'html'] as ReportFormat[]);
      const written = await writeReports({ summaries: parsed.summaries, directory, formats });
      process.stdout.write(`${summaryTable(parsed.summaries)}\n${written.join('\n')}\n`);
      context.exitCode = gate(parsed.summaries, parseMinScores(flags.minScore, undefined));
    });

  bench
    .command('list')
    .description('list the registered benchmarks')
    .option('--json', 'machine-readable output')
    .action((flags: { json?: boolean }) => {
      const benchmarks = builtinBenchmarks().entries().map(([id, benchmark]) => ({ id, grader: benchmark.graderId, templates: Object.keys(benchmark.templates), breakdowns: [...benchmark.breakdowns], description: benchmark.description }));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(benchmarks, null, 2)}\n`);
        return;
      }
      const table = new Table({ style: plainStyle(), head: ['id', 'grader', 'templates', 'breakdowns', 'description'], wordWrap: true, colWidths: [16, 18, 20, 22, 60] });
      for (const row of benchmarks) table.push([row.id, row.grader, row.templates.join(', '), row.breakdowns.join(', '), row.description]);
      process.stdout.write(`${table.toString()}\n`);
    });
}
