import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AipoError } from '@aipo/core';
import type { Command } from 'commander';
import type { CliContext } from '../run';

export function registerSandbox(program: Command, context: CliContext): void {
  program
    .command('sandbox')
    .description('manage the Docker sandbox used by code graders')
    .command('build-image')
    .description('build the Python sandbox image (runs @aipo/graders scripts/build-sandbox-image.mjs)')
    .allowUnknownOption()
    .argument('[args...]', 'passed to the build script')
    .action(async (args: string[]) => {
      const script = join(dirname(createRequire(import.meta.url).resolve('@aipo/graders/package.json')), 'scripts', 'build-sandbox-image.mjs');
      if (!existsSync(script)) throw new AipoError({ code: 'MISSING_DEPENDENCY', message: `the sandbox build script ${script} is not there (is @aipo/graders up to date?)` });
      const child = spawn(process.execPath, [script, ...args], { stdio: 'inherit' });
      context.exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code === 0 ? 0 : 1)));
    });
}
