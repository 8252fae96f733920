// Runs every `bench/*.bench.ts` of the package in the current directory (or those named on the
// command line). Each file default-exports `async () => Record<string, unknown>`; the result is
// written to `bench/results/<name>.json` with the machine and runtime it was measured on.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = resolve('bench');
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => only.length === 0 || only.includes(basename(file, '.bench.ts')))
  .sort();
mkdirSync(join(dir, 'results'), { recursive: true });
for (const file of files) {
  const name = basename(file, '.bench.ts');
  process.stdout.write(`bench ${name} ...\n`);
  const module = (await import(pathToFileURL(join(dir, file)).href)) as { default: () => Promise<Record<string, unknown>> };
  const results = await module.default();
  const record = {
    name,
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    results,
  };
  writeFileSync(join(dir, 'results', `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
