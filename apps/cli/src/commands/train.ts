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
  peerModel?: string;
  stopAfter?: number;
  backend: string;
  microBatchSize?: number;
  exportHf?: string;
  klCoefficient?: number;
  entropyCoefficient?: number;
}

function nonNegativeNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new InvalidArgumentError('expected a finite number >= 0');
  return number;
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
    .option('--peer-model <dir>', 'with --recipe ilr and --model: co-train this Hugging Face folder as the second policy (may equal --model: an independent copy); exported to <out>/peer/hf-model')
    .option('--stop-after <n>', 'stop after n steps in this call; the run stays resumable (re-run the same command)', nonNegativeInteger)
    .option('--backend <name>', 'tfjs backend: auto, tensorflow, webgpu, wasm, cpu', 'auto')
    .option('--micro-batch-size <n>', 'rows per forward/backward pass for --model (exact accumulation)', nonNegativeInteger)
    .option('--export-hf <dir>', 'with --model: write the trained model as a Hugging Face folder here (default <out>/hf-model)')
    .option('--kl-coefficient <beta>', 'override loss.klCoefficient (KL to the starting weights; 0 = off)', nonNegativeNumber)
    .option('--entropy-coefficient <c>', 'override loss.entropyCoefficient (the entropy bonus; 0 = off)', nonNegativeNumber)
    .action(async (options: TrainOptions) => {
      const trainer = await import('@aipo/trainer');
      if ((options.recipe === undefined) === (options.config === undefined)) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `give exactly one of --recipe (${trainer.BUILTIN_RECIPES.join(', ')}) or --config FILE` });
      }
      const overrides: Record<string, unknown> = {};
      if (options.steps !== undefined) overrides.steps = options.steps;
      if (options.seed !== undefined) overrides.seed = options.seed;
      const path = options.config ?? trainer.builtinRecipeConfigPath(options.recipe as (typeof trainer.BUILTIN_RECIPES)[number]);
      const loaded = await trainer.loadRecipeConfigFile(path, overrides);
      const config = trainer.parseRecipeConfig({
        ...loaded,
        loss: {
          ...loaded.loss,
          ...(options.klCoefficient !== undefined ? { klCoefficient: options.klCoefficient } : {}),
          ...(options.entropyCoefficient !== undefined ? { entropyCoefficient: options.entropyCoefficient } : {}),
        },
      });

      if (options.exportHf !== undefined && options.model === undefined) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: '--export-hf needs --model (the built-in character model is not a Hugging Face transformer)' });
      }
      const backends = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
      if (!(backends as readonly string[]).includes(options.backend)) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `unknown backend "${options.backend}" (one of ${backends.join(', ')})` });
      }
      const choice = await trainer.selectBackend({ backend: options.backend as (typeof backends)[number] });
      process.stderr.write(`aipo train: backend ${choice.name} (${choice.reason})\n`);

      if (options.peerModel !== undefined && (options.model === undefined || config.recipe !== 'ilr')) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: '--peer-model needs --recipe ilr (or an ilr config) and --model (ILR co-trains two Hugging Face checkpoints)' });
      }
      type Policy = ReturnType<typeof trainer.createCausalLmRecipePolicy>;
      let policy: Policy | undefined;
      let peer: Policy | undefined;
      let references: Policy[] | undefined;
      if (options.model !== undefined) {
        const settings = { seed: config.seed, ...(options.microBatchSize ? { microBatchSize: options.microBatchSize } : {}) };
        // the same loading path for both ILR policies; each gets its own weights, optimizer and trainer seed
        const load = async (dir: string, seed: number) => {
          const [model, tokenizer] = await Promise.all([trainer.loadModel(dir, { trainable: true }), trainer.loadTokenizer(dir)]);
          return trainer.createCausalLmRecipePolicy({ model, tokenizer, ...settings, seed });
        };
        policy = await load(options.model, config.seed);
        if (config.recipe === 'ilr') {
          // seed + 1 as runRecipe's default peer: the two policies do not share trainer randomness.
          // Without --peer-model that default GRU is built here, so its frozen clone can join the references.
          peer =
            options.peerModel !== undefined
              ? await load(options.peerModel, config.seed + 1)
              : readableByCharModel(await trainer.createCharGruPolicy({ embeddingSize: config.model.embeddingSize, hiddenSize: config.ilr.peerHiddenSize, seed: config.seed + 1 }));
        }
        if (config.loss.klCoefficient > 0) {
          // a CausalLM cannot clone itself: each KL reference is a second, frozen copy of its folder
          references = [await load(options.model, config.seed)];
          if (options.peerModel !== undefined) references.push(await load(options.peerModel, config.seed + 1));
          else if (peer !== undefined) references.push(await peer.clone());
        }
      }
      if (config.recipe === 'ilr') process.stderr.write(`aipo train: ILR peer ${describePeer({ options, hiddenSize: config.ilr.peerHiddenSize })}\n`);

      const progress = createPhaseProgress();
      const outDir = resolve(options.out);
      process.stderr.write(`aipo train: recipe ${config.recipe}, ${config.steps} steps, seed ${config.seed}; writing to ${outDir}\n`);
      try {
        const result = await trainer.runRecipe(config, {
          outDir,
          signal: context.signal,
          ...(policy ? { policy } : {}),
          ...(peer ? { peer } : {}),
          ...(options.stopAfter !== undefined ? { stopAfterSteps: options.stopAfter } : {}),
          ...(references ? { references } : {}),
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
        if (result.policy.exportHfFolder !== undefined) {
          const exportDir = resolve(options.exportHf ?? resolve(outDir, 'hf-model'));
          await result.policy.exportHfFolder(exportDir);
          process.stdout.write(`model: ${exportDir} (Hugging Face folder)\n`);
        }
        if (result.peer?.exportHfFolder !== undefined) {
          // next to the peer's state files (runRecipe's peer subfolder)
          const peerDir = resolve(outDir, trainer.PEER_DIR, 'hf-model');
          await result.peer.exportHfFolder(peerDir);
          process.stdout.write(`peer model: ${peerDir} (Hugging Face folder)\n`);
        }
      } finally {
        progress.stop();
      }
    });
}

/** Which second policy an ILR run co-trains, for the terminal. */
function describePeer(options: { options: TrainOptions; hiddenSize: number }): string {
  const { peerModel, model } = options.options;
  if (peerModel === undefined) {
    const hint = model === undefined ? '' : ' (give --peer-model DIR to co-train a second Hugging Face checkpoint)';
    return `a fresh character GRU (hidden size ${options.hiddenSize})${hint}`;
  }
  return resolve(peerModel) === resolve(model ?? '') ? `${resolve(peerModel)} (a second, independent copy of --model)` : resolve(peerModel);
}

/**
 * ILR shows each policy the other's solution (ilr-step.ts). A byte-level HF model writes any
 * Unicode, which the character GRU's vocabulary (newline + printable ASCII) cannot encode, so the
 * run would stop with INVALID_ARGUMENT on the first such solution: the GRU reads those characters
 * as '?'. Its own prompts and samples are ASCII and encode unchanged.
 */
function readableByCharModel<T extends { encode: (text: string) => number[] }>(policy: T): T {
  return { ...policy, encode: (text: string) => policy.encode(text.replace(/[^\n\x20-\x7e]/g, '?')) };
}
