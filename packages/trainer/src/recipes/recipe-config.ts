import { AipoError } from '@aipo/core';
import { z } from 'zod';
import { DEFAULT_DATASET_PROMPT } from '../tasks/dataset-task';

/**
 * Every knob of the four recipes with its default and where the default comes from. Config files
 * (`packages/trainer/recipes/*.json`) hold only overrides; `parseRecipeConfig` fills the rest.
 * Sources: algorithms.md §1.3 (AIPO prototype), §2 (ILR), §3.5 (LUFFY `train.sh`), §4 (knobs).
 */
export const recipeConfigSchema = z.strictObject({
  /** which code path: on-policy groups, LUFFY mixed groups, AIPO consultations, or ILR co-training */
  recipe: z.enum(['grpo', 'luffy', 'aipo', 'ilr']),
  /** seeds the problems, the model initialisation and every sampling draw */
  seed: z.int().default(0),
  /** demo model size (the character GRU) */
  model: z
    .strictObject({ embeddingSize: z.int().positive().default(32), hiddenSize: z.int().positive().default(128) })
    .prefault({}),
  /** the embedded arithmetic task */
  task: z
    .strictObject({
      /** difficulties (operations per problem) drawn for training, uniformly */
      trainDifficulties: z.array(z.int().min(1).max(6)).min(1).default([1, 2, 3, 4]),
      /** distinct training problems per difficulty */
      trainProblemsPerDifficulty: z.int().positive().default(400),
      /** difficulties of the held-out evaluation set */
      evalDifficulties: z.array(z.int().min(1).max(6)).min(1).default([1, 2, 3, 4]),
      /** held-out problems per difficulty (disjoint from training) */
      evalProblemsPerDifficulty: z.int().positive().default(16),
      /**
       * train and evaluate on a JSONL file of `{problem, answer}` (graded by the math grader)
       * instead of the arithmetic task; null = the embedded task. Relative paths resolve from the
       * working directory.
       */
      dataset: z
        .strictObject({
          path: z.string().min(1),
          /** problems held out for evaluation */
          evalProblems: z.int().positive().default(16),
          /** evaluation prompt; `{problem}` is replaced by the record's problem */
          prompt: z.string().default(DEFAULT_DATASET_PROMPT),
        })
        .nullable()
        .default(null),
    })
    .prefault({}),
  /** optimizer steps (each: sample groups, grade, one or more updates) */
  steps: z.int().min(0).default(40),
  /** stop early once this many policy-sampled tokens were drawn (the demo's equal budget); 0 = no limit */
  sampledTokenBudget: z.int().min(0).default(0),
  /** prompts per step */
  promptsPerStep: z.int().positive().default(8),
  /** rollouts per prompt, G (8 in every paper's recipe) */
  groupSize: z.int().min(2).default(8),
  /** cap on policy-sampled tokens per rollout */
  maxResponseTokens: z.int().positive().default(64),
  /** rollout temperature (1.0 in AIPO's prototype and LUFFY) */
  temperature: z.number().positive().default(1),
  /** Adam learning rate (the tiny model needs far more than the papers' 1e-6) */
  learningRate: z.number().positive().default(2e-3),
  /** advantage: GRPO divides by the group std; Dr.GRPO (and the AIPO prototype, LUFFY's script) do not */
  advantage: z.strictObject({ normalizeByStd: z.boolean().default(true) }).prefault({}),
  /** policy loss on policy-sampled tokens */
  loss: z
    .strictObject({
      /** PPO lower clip ε_low (0.2) */
      clipLow: z.number().min(0).default(0.2),
      /** PPO upper clip ε_high (0.2; DAPO and the AIPO prototype use 0.28) */
      clipHigh: z.number().min(0).default(0.2),
      /** no clipping at all (LUFFY's released recipe, loss_remove_clip=True) */
      disableClip: z.boolean().default(false),
      /** clipped tokens keep gradient bound·∇log π (AIPO prototype, GPPO); standard PPO zeroes it */
      gradientPreservingClip: z.boolean().default(false),
      /** token-mean over the batch (DAPO), per-sequence mean (GRPO paper), or ÷ (rows·maxResponseTokens) (Dr.GRPO) */
      aggregation: z.enum(['token-mean', 'seq-mean-token-mean', 'constant-length']).default('token-mean'),
      /** gradient updates per sampled batch (mini-batches); >1 makes ratios and clipping non-trivial */
      updatesPerBatch: z.int().positive().default(2),
      /**
       * β of a KL penalty to a frozen reference policy (the run's starting weights), on policy tokens:
       * loss += β·agg(KL). 0 = off, as in the AIPO prototype, LUFFY's train.sh, DAPO and Dr.GRPO;
       * DeepSeekMath's GRPO uses 0.04 with k3 (arXiv 2402.03300 §4.1).
       */
      klCoefficient: z.number().min(0).default(0),
      /** KL estimator (core's `klEstimators`): k1 = log r, k2 = ½(log r)², k3 = r − 1 − log r (verl's default) */
      klEstimator: z.enum(['k1', 'k2', 'k3']).default('k3'),
      /** entropy bonus c: loss −= c·agg(H) over loss tokens. 0 = off (AIPO prototype); LUFFY's train.sh uses 0.001 */
      entropyCoefficient: z.number().min(0).default(0),
    })
    .prefault({}),
  /** DAPO dynamic sampling: drop groups whose rewards are all equal (their advantage is 0 anyway) */
  dropZeroVarianceGroups: z.boolean().default(false),
  /** LUFFY (arXiv 2504.14945) */
  luffy: z
    .strictObject({
      /** whole reference traces per group (1 of 8 in the released recipe) */
      offPolicyPerGroup: z.int().min(0).default(1),
      /** shaping f(p) = p/(p+γ); γ = 0.1 */
      gamma: z.number().positive().default(0.1),
    })
    .prefault({}),
  /** AIPO (arXiv 2605.08401; defaults from the first author's prototype, algorithms.md §1.3) */
  aipo: z
    .strictObject({
      /** consultations allowed per rollout (prototype max_turns = 3) */
      maxConsultations: z.int().min(0).default(3),
      /** learn from agent tokens (the paper does; the prototype's launch scripts did not) */
      trainOnAgentTokens: z.boolean().default(true),
      /** floor c_min of the agent-token coefficient max(π_θ, c_min), gradient-preserving (prototype 0.1) */
      coefficientFloor: z.number().min(0).max(1).default(0.1),
      /** weight λ of the agent-token term */
      agentTokenWeight: z.number().min(0).default(1),
      /** share of the SFT warm-up written in consultation form (so the tiny model knows the tags) */
      warmupConsultationShare: z.number().min(0).max(1).default(0.3),
    })
    .prefault({}),
  /** ILR (arXiv 2509.26306) */
  ilr: z
    .strictObject({
      /** IRT scale (1.7) in P = σ(1.7(γ_i − D_q)); P < 0.5 → cooperate */
      irtScale: z.number().positive().default(1.7),
      /** fixed cooperation probability instead of the IRT rule (the paper's 0/0.5/1 ablation); null = IRT */
      cooperationProbability: z.number().min(0).max(1).nullable().default(null),
      /** perception calibration (Eq. 5) on/off */
      perceptionCalibration: z.boolean().default(true),
      /** Idea3's Idea Analysis stage: critique the peer's shared solution before fusing (cooperative problems) */
      ideaAnalysis: z.boolean().default(true),
      /** analyses sampled per cooperative problem (a GRPO group of their own) */
      analysesPerProblem: z.int().min(2).default(2),
      /** train the analysis turns on their verdict reward (which turns ILR trains is not published) */
      trainAnalysis: z.boolean().default(true),
      /** size of the second policy (a different scale, like the paper's 7B/14B pairs) */
      peerHiddenSize: z.int().positive().default(96),
    })
    .prefault({}),
  /**
   * AIPO's agents on an OpenAI-compatible endpoint (verify / knowledge / reasoning roles of
   * @aipo/agents); null = the programmatic arithmetic agents
   */
  agents: z
    .strictObject({
      baseURL: z.url(),
      model: z.string().min(1),
      /** environment variable holding the API key; null for a local server */
      apiKeyEnv: z.string().min(1).nullable().default(null),
      /** reply tokens per consultation */
      maxTokens: z.int().positive().default(1024),
      /** per-attempt deadline (ms) */
      timeoutMs: z.int().positive().default(120_000),
    })
    .nullable()
    .default(null),
  /** held-out evaluation */
  evaluation: z
    .strictObject({
      /** evaluate every N steps (and after the last step); 0 = only at the end */
      every: z.int().min(0).default(20),
      /** samples per problem (n of the unbiased pass@k estimator) */
      samples: z.int().positive().default(16),
      /** k values reported (each ≤ samples) */
      k: z.array(z.int().positive()).default([1, 4, 16]),
      /** sampling temperature at evaluation */
      temperature: z.number().positive().default(1),
    })
    .prefault({}),
  /** checkpoint every N steps (and after the last); 0 = only at the end */
  checkpointEvery: z.int().min(0).default(20),
});

/** A fully-defaulted recipe configuration. */
export type RecipeConfig = z.output<typeof recipeConfigSchema>;
/** What a config file or caller may write (everything but `recipe` optional). */
export type RecipeConfigInput = z.input<typeof recipeConfigSchema>;

/** Validate and default a config object; failures are INVALID_CONFIG naming every bad field. */
export function parseRecipeConfig(input: unknown): RecipeConfig {
  const parsed = recipeConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new AipoError({ code: 'INVALID_CONFIG', message: `invalid recipe config: ${issues.join('; ')}`, details: { issues } });
  }
  const config = parsed.data;
  const tooLarge = config.evaluation.k.filter((k) => k > config.evaluation.samples);
  if (tooLarge.length > 0) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: `evaluation.k ${tooLarge.join(', ')} exceeds evaluation.samples ${config.evaluation.samples}` });
  }
  if (config.agents !== null && config.recipe !== 'aipo') {
    throw new AipoError({ code: 'INVALID_CONFIG', message: `agents are consulted only by the aipo recipe, not ${config.recipe}` });
  }
  if (config.recipe === 'luffy' && config.luffy.offPolicyPerGroup >= config.groupSize) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: 'luffy.offPolicyPerGroup must leave at least one on-policy rollout per group' });
  }
  return config;
}
