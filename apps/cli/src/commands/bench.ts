import type { Command } from 'commander';
import type { CliContext } from '../run';
import { registerBenchResults } from './bench-results';
import { registerBenchRun } from './bench-run';

export function registerBench(program: Command, context: CliContext): void {
  const bench = program.command('bench').description('run, re-grade, report and list benchmarks (AIME, MATH500, GPQA-Diamond, LiveCodeBench)');
  registerBenchRun(bench, context);
  registerBenchResults(bench, context);
}
