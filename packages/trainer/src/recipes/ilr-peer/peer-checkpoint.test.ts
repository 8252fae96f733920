import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCharGruPolicy } from '../char-gru-policy';
import type { RecipeConfigInput } from '../recipe-config';
import type { PolicyState } from '../recipe-policy';
import { runRecipe } from '../run-recipe';
import { loadPeerState, PEER_DIR, prunePeerStates, savePeerState } from './peer-checkpoint';

const TINY: RecipeConfigInput = {
  recipe: 'ilr',
  seed: 4,
  model: { embeddingSize: 8, hiddenSize: 16 },
  task: { trainDifficulties: [1, 2], trainProblemsPerDifficulty: 20, evalDifficulties: [1], evalProblemsPerDifficulty: 2 },
  steps: 2,
  promptsPerStep: 2,
  groupSize: 4,
  maxResponseTokens: 24,
  evaluation: { every: 0, samples: 1, k: [1] },
  ilr: { peerHiddenSize: 12 },
  // rewards are ~0 for untrained policies; the entropy bonus gives every step a gradient to resume
  loss: { entropyCoefficient: 0.01 },
};

const directories: string[] = [];
const tempDir = async () => {
  const directory = await mkdtemp(join(tmpdir(), 'aipo-ilr-peer-'));
  directories.push(directory);
  return directory;
};
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

// stands in for a second HF checkpoint: any policy passed as `peer` takes the subfolder path
const externalPeer = () => createCharGruPolicy({ embeddingSize: 8, hiddenSize: 12, seed: 99 });
const state = (value: number): PolicyState => ({ modelId: 'x', weights: { w: { shape: [1], values: [value] } }, optimizer: {} });

describe('ILR peer checkpoint', () => {
  it('saves one state file per step, prunes older ones and reads the requested step back', async () => {
    const outDir = await tempDir();
    await savePeerState({ outDir, step: 1, state: state(1) });
    await savePeerState({ outDir, step: 2, state: state(2) });
    // before the main checkpoint moves to step 2 both exist: a crash here still resumes step 1
    expect(await loadPeerState({ outDir, step: 1 })).toEqual(state(1));
    await prunePeerStates({ outDir, step: 2 });
    expect(await readdir(join(outDir, PEER_DIR))).toEqual(['state-2.json']);
    expect(await loadPeerState({ outDir, step: 2 })).toEqual(state(2));
  });

  it('reports a missing, unparsable or wrong-shaped peer state as CORRUPT_STATE', async () => {
    const outDir = await tempDir();
    await expect(loadPeerState({ outDir, step: 3 })).rejects.toMatchObject({ code: 'CORRUPT_STATE' });
    await savePeerState({ outDir, step: 3, state: state(3) });
    await writeFile(join(outDir, PEER_DIR, 'state-3.json'), '{"modelId":');
    await expect(loadPeerState({ outDir, step: 3 })).rejects.toMatchObject({ code: 'CORRUPT_STATE' });
    await writeFile(join(outDir, PEER_DIR, 'state-3.json'), '{"modelId":"x"}');
    await expect(loadPeerState({ outDir, step: 3 })).rejects.toMatchObject({ code: 'CORRUPT_STATE', message: expect.stringContaining('not a policy state') });
  });

  it('runRecipe with an external peer: its state goes to peer/, and 1 step + resume equals 2 straight steps', async () => {
    const straightDir = await tempDir();
    const straight = await runRecipe(TINY, { outDir: straightDir, peer: await externalPeer() });
    const splitDir = await tempDir();
    const first = await runRecipe(TINY, { outDir: splitDir, peer: await externalPeer(), stopAfterSteps: 1 });
    expect(first.stepsCompleted).toBe(1);
    const checkpoint = JSON.parse(await readFile(join(splitDir, 'checkpoint.json'), 'utf8')) as { peer?: unknown };
    expect(checkpoint.peer).toBeUndefined();
    expect(await readdir(join(splitDir, PEER_DIR))).toEqual(['state-1.json']);
    first.policy.dispose();
    first.peer?.dispose();

    const resumed = await runRecipe(TINY, { outDir: splitDir, peer: await externalPeer() });
    expect(resumed.stepsCompleted).toBe(2);
    expect(resumed.metrics.map((metric) => `${metric.step}${metric.policyId}`)).toEqual(['2a', '2b']);
    expect(await readdir(join(splitDir, PEER_DIR))).toEqual(['state-2.json']);
    const [peerStraight, peerResumed] = [await straight.peer?.saveState(), await resumed.peer?.saveState()];
    expect(peerResumed?.weights).toEqual(peerStraight?.weights);
    // the GRU names its Adam slots after tfjs variable ids, which differ between instances: compare the slots in order
    const slots = (saved?: PolicyState) => Object.values(saved?.optimizer ?? {}).map((slot) => slot.values);
    expect(slots(peerResumed)).toEqual(slots(peerStraight));
    expect(slots(peerResumed).length).toBeGreaterThan(0);
    expect((await resumed.policy.saveState()).weights).toEqual((await straight.policy.saveState()).weights);
    // the peer trained: its weights moved away from a fresh copy's
    expect(peerResumed?.weights).not.toEqual((await (await externalPeer()).saveState()).weights);
    for (const result of [straight, resumed]) {
      result.policy.dispose();
      result.peer?.dispose();
    }
  });

  it('refuses to resume a run whose peer lives in peer/ without that peer', async () => {
    const outDir = await tempDir();
    const first = await runRecipe({ ...TINY, steps: 1 }, { outDir, peer: await externalPeer() });
    first.policy.dispose();
    first.peer?.dispose();
    await expect(runRecipe({ ...TINY, steps: 1 }, { outDir })).rejects.toMatchObject({ code: 'CORRUPT_STATE', message: expect.stringContaining('--peer-model') });
  });
});
