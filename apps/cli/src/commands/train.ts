import { resolve } from 'node:path';
import { AipoError } from '@aipo/core';
import { type Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../run';
import { createPhaseProgress } from './phase-progress';

function nonNegativeInteger(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return number;
}

interface TrainOptions {
  recipe?: string;
  config?: string;
  out: string;
  steps?: number;
  seed?: number;
  model?: string;
  backend: string;
  microBatchSize?: number;
}

/** `aipo train`: run a recipe (grpo, dr-grpo, dapo, luffy, aipo, ilr); an existing checkpoint in --out resumes. */
export function registerTrain(program: Command, context: CliContext): void {
  program
    .command('train')
    .description('run a training recipe on the embedded task; re-running with the same --out resumes from its checkpoint')
    .option('--recipe <name>', 'built-in recipe: grpo, dr-grpo, dapo, luffy, aipo, ilr')
    .option('--config <file>', 'a recipe config file (JSON) instead of a built-in one')
    .option('--out <dir>', 'checkpoint.json and metrics.jsonl go here', 'runs/train')
    .option('--steps <n>', 'override the number of RL steps', nonNegativeInteger)
    .option('--seed <n>', 'override the seed', nonNegativeInteger)
    .option('--model <dir>', 'train a Hugging Face checkpoint folder (Llama/Qwen2/GPT-2) instead of the built-in character model')
    .option('--backend <name>', 'tfjs backend: auto, tensorflow, webgpu, wasm, cpu', 'auto')
    .option('--micro-batch-size <n>', 'rows per forward/backward pass for --model (exact accumulation)', nonNegativeInteger)
    .action(async (options: TrainOptions) => {
      const trainer = await import('@aipo/trainer');
      if ((options.recipe === undefined) === (options.config === undefined)) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `give exactly one of --recipe (${trainer.BUILTIN_RECIPES.join(', ')}) or --config FILE` });
      }
      const overrides: Record<string, unknown> = {};
      if (options.steps !== undefined) overrides.steps = options.steps;
      if (options.seed !== undefined) overrides.seed = options.seed;
      const path = options.config ?? trainer.builtinRecipeConfigPath(options.recipe as (typeof trainer.BUILTIN_RECIPES)[number]);
      const config = await trainer.loadRecipeConfigFile(path, overrides);

      const backends = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
      if (!(backends as readonly string[]).includes(options.backend)) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `unknown backend "${options.backend}" (one of ${backends.join(', ')})` });
      }
      const choice = await trainer.selectBackend({ backend: options.backend as (typeof backends)[number] });
      process.stderr.write(`aipo train: backend ${choice.name} (${choice.reason})\n`);

      let policy: ReturnType<typeof trainer.createCausalLmRecipePolicy> | undefined;
      if (options.model !== undefined) {
        const [model, tokenizer] = await Promise.all([trainer.loadModel(options.model, { trainable: true }), trainer.loadTokenizer(options.model)]);
        policy = trainer.createCausalLmRecipePolicy({
          model,
          tokenizer,
          seed: config.seed,
          ...(options.microBatchSize ? { microBatchSize: options.microBatchSize } : {}),
        });
      }

      const progress = createPhaseProgress();
      const outDir = resolve(options.out);
      process.stderr.write(`aipo train: recipe ${config.recipe}, ${config.steps} steps, seed ${config.seed}; writing to ${outDir}\n`);
      try {
        const result = await trainer.runRecipe(config, {
          outDir,
          signal: context.signal,
          ...(policy ? { policy } : {}),
          onProgress: (event) => {
            if (event.phase === 'train') {
              progress.update('train', event.step, event.total);
              if (!process.stderr.isTTY) process.stdout.write(`${event.line}\n`);
            } else if (event.phase === 'evaluated') {
              progress.stop();
              process.stdout.write(`${event.line}\n`);
            }
          },
        });
        progress.stop();
        process.stdout.write(`done: ${result.stepsCompleted} steps, ${result.sampledTokens} sampled tokens; metrics in ${outDir}/metrics.jsonl\n`);
      } finally {
        progress.stop();
      }
    });
}
