import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AipoError } from '@aipo/core';
import type { PolicyState } from '../recipe-policy';

/** The ILR peer's own folder inside a run's `outDir` (its state files; the CLI exports its HF folder here too). */
export const PEER_DIR = 'peer';

const stateFile = (step: number) => `state-${step}.json`;
const STATE_PATTERN = /^state-(\d+)\.json$/;

/**
 * Write the peer's state for `step` to `<outDir>/peer/state-<step>.json` (temp file + rename).
 * One file per step, written before the main `checkpoint.json`: a crash between the two writes
 * leaves the main checkpoint pointing at the previous step, whose peer file is still there, so a
 * resume always finds both policies at the same step (one shared file would give that too, but two
 * real checkpoints' weights as JSON in one file gets large).
 */
export async function savePeerState(options: { outDir: string; step: number; state: PolicyState }): Promise<void> {
  const { outDir, step, state } = options;
  const directory = join(outDir, PEER_DIR);
  const path = join(directory, stateFile(step));
  try {
    await mkdir(directory, { recursive: true });
    await writeFile(`${path}.tmp`, JSON.stringify(state));
    await rename(`${path}.tmp`, path);
  } catch (error) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot write the ILR peer's state to ${directory}`, cause: error });
  }
}

/** After the main checkpoint moved to `step`, drop the peer's older state files. */
export async function prunePeerStates(options: { outDir: string; step: number }): Promise<void> {
  const directory = join(options.outDir, PEER_DIR);
  const names = await readdir(directory).catch(() => []);
  await Promise.all(
    names
      .filter((name) => STATE_PATTERN.exec(name) !== null && name !== stateFile(options.step))
      .map((name) => rm(join(directory, name), { force: true })),
  );
}

/** Read the peer's state saved with the main checkpoint of `step`; CORRUPT_STATE when it is missing or unreadable. */
export async function loadPeerState(options: { outDir: string; step: number }): Promise<PolicyState> {
  const path = join(options.outDir, PEER_DIR, stateFile(options.step));
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AipoError({ code: 'CORRUPT_STATE', message: `the checkpoint in ${options.outDir} (step ${options.step}) has no ILR peer state at ${path}`, cause: error });
  }
  let state: Partial<PolicyState>;
  try {
    state = JSON.parse(text) as Partial<PolicyState>;
  } catch (error) {
    throw new AipoError({ code: 'CORRUPT_STATE', message: `${path} is not valid JSON`, cause: error });
  }
  if (typeof state.modelId !== 'string' || typeof state.weights !== 'object' || state.weights === null || typeof state.optimizer !== 'object' || state.optimizer === null) {
    throw new AipoError({ code: 'CORRUPT_STATE', message: `${path} is not a policy state` });
  }
  return state as PolicyState;
}
