import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../run';
import { createPhaseProgress } from './phase-progress';

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a positive integer');
  return number;
}

/** `aipo demo` (= `npm start`): GRPO vs LUFFY vs AIPO (or GRPO vs ILR) on the embedded task. */
export function registerDemo(program: Command, context: CliContext): void {
  program
    .command('demo')
    .description('the embedded demo: SFT warm-up, then GRPO, LUFFY and AIPO on the same token budget, evaluated alone')
    .option('--full', 'a longer, stronger run (more warm-up and 4x the RL budget)')
    .option('--seeds <n>', 'independent seeds, for error bars', positiveInteger, 1)
    .option('--first-seed <n>', 'first seed', (value) => Number.parseInt(value, 10), 0)
    .option('--ilr', 'single-agent GRPO vs ILR instead')
    .option('--out <dir>', 'where results.json, metrics and report.html go', 'runs/demo')
    .action(async (options: { full?: boolean; seeds: number; firstSeed: number; ilr?: boolean; out: string }) => {
      // loaded lazily: tfjs is heavy and only training commands need it
      const { runDemo } = await import('@aipo/trainer');
      const progress = createPhaseProgress();
      const outDir = resolve(options.out);
      process.stderr.write(`aipo demo: ${options.ilr ? 'GRPO vs ILR' : 'GRPO vs LUFFY vs AIPO'}, ${options.seeds} seed(s)${options.full ? ', full run' : ''}; writing to ${outDir}\n`);
      try {
        const result = await runDemo({
          full: options.full === true,
          seeds: options.seeds,
          firstSeed: options.firstSeed,
          ilr: options.ilr === true,
          outDir,
          signal: context.signal,
          onProgress: (event) => progress.update(`seed ${event.seed} ${event.phase} ${event.method}`, event.step, event.total),
        });
        progress.stop();
        process.stdout.write(`${result.tableText}\n`);
        process.stdout.write(`\nbackend: ${result.backend}\nreport: ${result.reportPath}\nresults: ${result.resultsPath}\n`);
        process.stdout.write(`wall time: ${(result.wallMs / 1000).toFixed(1)} s\n`);
      } finally {
        progress.stop();
      }
    });
}
