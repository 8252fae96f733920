import { extractLastBoxed } from '@aipo/agents';
import { createRng } from '@aipo/core';
import { describe, expect, it } from 'vitest';
import { makeProblem, solveExpression } from '../tasks/arithmetic-task';
import { createCharGruPolicy } from './char-gru-policy';
import { ANALYSIS_NOTE_PREFIX, ANALYSIS_PROMPT_PREFIX, PEER_PROMPT_PREFIX, runIlrStep } from './ilr-step';
import { parseRecipeConfig } from './recipe-config';
import { scriptSamples } from './testing/script-samples';

const PROBLEMS = ['2+3', '7-4', '5+1'].map(makeProblem);

/**
 * Policy "a" samples freely except in Idea Analysis, where it alternates the verdicts 1 and 0;
 * policy "b" solves every plain prompt correctly. So a's analyses of b's (correct) solutions are
 * right exactly when they say 1, and a's analysis groups have rewards [1, 0]: a learnable signal.
 */
async function policies() {
  let verdicts = 0;
  const a = scriptSamples(await createCharGruPolicy({ embeddingSize: 8, hiddenSize: 16, seed: 1 }), (context) =>
    context.startsWith(ANALYSIS_PROMPT_PREFIX) ? { text: `ok\\boxed{${verdicts++ % 2 === 0 ? 1 : 0}}`, end: true } : undefined,
  );
  const b = scriptSamples(await createCharGruPolicy({ embeddingSize: 8, hiddenSize: 12, seed: 2 }), (context) => {
    const plain = /^(\d(?:[+-]\d)+)=\?\n$/.exec(context);
    return plain ? { text: `\\boxed{${solveExpression(plain[1] ?? '').answer}}`, end: true } : undefined;
  });
  return [a, b] as const;
}

const config = (ilr: Record<string, unknown>) =>
  parseRecipeConfig({ recipe: 'ilr', groupSize: 4, maxResponseTokens: 24, loss: { updatesPerBatch: 1 }, ilr: { cooperationProbability: 1, ...ilr } });

describe('ILR Idea3: share, analyse, fuse', () => {
  it('each policy critiques the peer’s shared solution, is graded on its verdict, and fuses with its analysis in context', async () => {
    const [a, b] = await policies();
    const [stepA, stepB] = await runIlrStep({ policies: [a, b], problems: PROBLEMS, config: config({}), rng: createRng(4), updateRng: createRng(5) });

    const analyses = stepA.trajectories.filter((trajectory) => trajectory.stage === 'analysis');
    // 2 analyses (ilr.analysesPerProblem) per cooperative problem, in groups after the answer groups
    expect(analyses).toHaveLength(2 * PROBLEMS.length);
    expect(new Set(analyses.map((analysis) => analysis.group))).toEqual(new Set([3, 4, 5]));
    for (const analysis of analyses) {
      const problem = PROBLEMS[analysis.group - PROBLEMS.length];
      const prompt = a.decode(analysis.prompt);
      // the critique is of b's shared solution, which is correct
      expect(prompt).toBe(`${ANALYSIS_PROMPT_PREFIX}\\boxed{${problem?.answer}}\n${problem?.prompt}`);
      const verdict = extractLastBoxed(analysis.text);
      expect(analysis.reward).toBe(verdict === '1' ? 1 : 0);
    }
    expect(stepA.analysisAccuracy).toBe(0.5);
    // analysis groups are trained: rewards [1, 0] give them non-zero GRPO advantages
    const analysisAdvantages = stepA.trajectories.flatMap((trajectory, index) => (trajectory.stage === 'analysis' ? [stepA.advantages[index] ?? 0] : []));
    expect(analysisAdvantages.every((value) => Math.abs(value) > 0.1)).toBe(true);

    // fusion rollouts (the second half of each answer group) carry the peer's solution and a's first analysis
    const fusion = stepA.trajectories.filter((trajectory) => trajectory.stage === undefined && a.decode(trajectory.prompt).startsWith(PEER_PROMPT_PREFIX));
    expect(fusion).toHaveLength(2 * PROBLEMS.length);
    for (const trajectory of fusion) {
      const firstAnalysis = analyses.find((analysis) => analysis.group === PROBLEMS.length + trajectory.group);
      expect(a.decode(trajectory.prompt)).toContain(`\n${ANALYSIS_NOTE_PREFIX}${firstAnalysis?.text}\n${trajectory.problem.prompt}`);
      // answers are graded against the problem, not against the verdict
      expect(trajectory.problem.answer).toBe(PROBLEMS[trajectory.group]?.answer);
    }
    // b analyses a's solutions too
    expect(stepB.trajectories.filter((trajectory) => trajectory.stage === 'analysis')).toHaveLength(2 * PROBLEMS.length);
    a.dispose();
    b.dispose();
  });

  it('ideaAnalysis: false runs share + fuse only; trainAnalysis: false keeps analyses out of the update', async () => {
    const [a, b] = await policies();
    const [without] = await runIlrStep({ policies: [a, b], problems: PROBLEMS, config: config({ ideaAnalysis: false }), rng: createRng(4), updateRng: createRng(5) });
    expect(without.trajectories.some((trajectory) => trajectory.stage === 'analysis')).toBe(false);
    expect(without.analysisAccuracy).toBeNull();
    expect(without.trajectories.some((trajectory) => a.decode(trajectory.prompt).includes(ANALYSIS_NOTE_PREFIX))).toBe(false);
    const [untrained] = await runIlrStep({ policies: [a, b], problems: PROBLEMS, config: config({ trainAnalysis: false }), rng: createRng(4), updateRng: createRng(5) });
    expect(untrained.trajectories.filter((trajectory) => trajectory.stage === 'analysis')).toHaveLength(6);
    expect(untrained.advantages).toHaveLength(untrained.trajectories.length - 6);
    expect(untrained.update.trainedSequences).toBe(untrained.trajectories.length - 6);
    a.dispose();
    b.dispose();
  });
});
