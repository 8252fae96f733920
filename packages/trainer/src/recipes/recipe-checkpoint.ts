import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AipoError } from '@aipo/core';
import type { RecipeConfig } from './recipe-config';
import type { PolicyState } from './recipe-policy';

/** Everything needed to continue a run exactly where it stopped. */
export interface RecipeCheckpoint {
  /** format version */
  version: 1;
  /** the config the run started with (a resume with a different config is refused) */
  config: RecipeConfig;
  /** steps completed */
  step: number;
  /** policy-sampled tokens so far (the budget counter) */
  sampledTokens: number;
  /** policy weights and optimizer state */
  policy: PolicyState;
  /** ILR's second policy */
  peer?: PolicyState;
  /** the frozen KL reference policies (weights at the start of the run), when the run cloned them */
  references?: PolicyState[];
}

export const CHECKPOINT_FILE = 'checkpoint.json';

/** Write atomically (temp file + rename) so a crash never leaves half a checkpoint. */
export async function saveRecipeCheckpoint(directory: string, checkpoint: RecipeCheckpoint): Promise<void> {
  try {
    await mkdir(directory, { recursive: true });
    const path = join(directory, CHECKPOINT_FILE);
    await writeFile(`${path}.tmp`, JSON.stringify(checkpoint));
    await rename(`${path}.tmp`, path);
  } catch (error) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot write checkpoint to ${directory}`, cause: error });
  }
}

/** Read a checkpoint; undefined when there is none, CORRUPT_STATE when it is unreadable. */
export async function loadRecipeCheckpoint(directory: string): Promise<RecipeCheckpoint | undefined> {
  let text: string;
  try {
    text = await readFile(join(directory, CHECKPOINT_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AipoError({ code: 'IO_ERROR', message: `cannot read checkpoint in ${directory}`, cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new AipoError({ code: 'CORRUPT_STATE', message: `checkpoint in ${directory} is not valid JSON`, cause: error });
  }
  const checkpoint = parsed as Partial<RecipeCheckpoint>;
  if (checkpoint.version !== 1 || typeof checkpoint.step !== 'number' || checkpoint.policy === undefined || checkpoint.config === undefined) {
    throw new AipoError({ code: 'CORRUPT_STATE', message: `checkpoint in ${directory} is not a version-1 recipe checkpoint` });
  }
  return checkpoint as RecipeCheckpoint;
}
