import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { builtinBenchmarks, defaultCacheDir } from '@aipo/bench';
import Table from 'cli-table3';
import { plainStyle } from '../output/table-style';
import type { Command } from 'commander';
import type { CliContext } from '../run';
import { collect } from './bench-options';

export function registerDatasets(program: Command, _context: CliContext): void {
  const datasets = program.command('datasets').description('download benchmark data into the on-disk cache, or list it');
  datasets
    .command('download')
    .description('download benchmarks from the Hugging Face hub into the cache (checksummed); HF_TOKEN for gated sets')
    .argument('[benchmarks...]', 'benchmark ids (default: all)')
    .option('--cache-dir <dir>', `cache folder (default $AIPO_CACHE_DIR or ${defaultCacheDir()})`)
    .option('--release <tag>', 'LiveCodeBench release (default release_latest)')
    .action(async (ids: string[], flags: { cacheDir?: string; release?: string }) => {
      const registry = builtinBenchmarks();
      for (const id of ids.length > 0 ? ids : registry.list()) {
        const items = await registry.get(id).load({ ...(flags.cacheDir === undefined ? {} : { cacheDir: flags.cacheDir }), ...(flags.release === undefined ? {} : { release: flags.release }) });
        process.stdout.write(`${id}: ${items.length} problems cached in ${flags.cacheDir ?? defaultCacheDir()}\n`);
      }
    });
  datasets
    .command('list')
    .description('list the benchmarks and whether a local folder has data for them')
    .option('--data-dir <dir>', 'also check this local folder (one sub-folder per benchmark)', collect, [])
    .action((flags: { dataDir: string[] }) => {
      const table = new Table({ style: plainStyle(), head: ['benchmark', 'grader', 'local data', 'description'], wordWrap: true, colWidths: [16, 18, 30, 60] });
      for (const [id, benchmark] of builtinBenchmarks().entries()) {
        const local = flags.dataDir.flatMap((dir) => [join(dir, id), join(dir, id.split('-')[0] as string)]).find((path) => existsSync(path));
        table.push([id, benchmark.graderId, local ?? '–', benchmark.description]);
      }
      process.stdout.write(`${table.toString()}\ncache: ${defaultCacheDir()}\n`);
    });
}
