import type { RecipeConfigInput } from '../recipes/recipe-config';

/** Sizes of one demo run. The default fits in under 10 minutes on 2 CPU cores; `full` is longer and stronger. */
export interface DemoSettings {
  /** supervised warm-up steps on easy problems */
  warmupSteps: number;
  /** sequences per warm-up step */
  warmupBatchSize: number;
  /** difficulties of the warm-up problems ("easy") */
  warmupDifficulties: number[];
  /** warm-up learning rate */
  warmupLearningRate: number;
  /** policy-sampled tokens each RL method may draw (the equal budget) */
  sampledTokenBudget: number;
  /** recipe settings shared by every method */
  recipe: Omit<RecipeConfigInput, 'recipe'>;
  /** samples per held-out problem in the final evaluation (pass@k up to this k) */
  evaluationSamples: number;
}

const SHARED: Omit<RecipeConfigInput, 'recipe'> = {
  model: { embeddingSize: 24, hiddenSize: 96 },
  task: { trainDifficulties: [1, 2, 3, 4], trainProblemsPerDifficulty: 400, evalDifficulties: [1, 2, 3, 4], evalProblemsPerDifficulty: 12 },
  promptsPerStep: 8,
  groupSize: 8,
  maxResponseTokens: 48,
  learningRate: 1e-3,
  steps: 100_000,
  evaluation: { every: 0, samples: 64, k: [1, 8, 64] },
  checkpointEvery: 0,
  // ILR's second policy is smaller, as the paper pairs models of different sizes
  ilr: { peerHiddenSize: 64 },
};

/** Default run: a few minutes. */
export const DEFAULT_DEMO_SETTINGS: DemoSettings = {
  warmupSteps: 150,
  warmupBatchSize: 64,
  warmupDifficulties: [1, 2],
  // 3e-3 plateaued near 0.8 nats/token after 80 steps; 1e-2 reaches 0.65 by step 50
  warmupLearningRate: 1e-2,
  sampledTokenBudget: 40_000,
  recipe: SHARED,
  evaluationSamples: 64,
};

/** `full: true`: longer warm-up, four times the RL budget, more held-out problems. */
export const FULL_DEMO_SETTINGS: DemoSettings = {
  ...DEFAULT_DEMO_SETTINGS,
  warmupSteps: 400,
  sampledTokenBudget: 160_000,
  recipe: { ...SHARED, task: { ...SHARED.task, evalProblemsPerDifficulty: 32 } },
};
