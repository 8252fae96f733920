import type { FloatArray } from '../batch/float-array';
import type { GroupStatistics } from './group-statistics';

/** What to do with a group that has a single scorable member (rl-frameworks.md §3.2 item 2). */
export type SingletonPolicy =
  /** advantage 0: TRL, NeMo-RL and verl `rloo_vectorized` */
  | 'zero'
  /** advantage = raw reward (mean 0, std 1): verl `grpo` */
  | 'raw-reward'
  /** throw INVALID_ARGUMENT: OpenRLHF, verl `grpo_passk` */
  | 'error';

/** What to do with a NaN (unscorable) reward (TRL: a reward function returned None). */
export type UnscorablePolicy =
  /** leave it out of every statistic and give the sequence advantage 0 (TRL) */
  | 'exclude'
  /** treat it as reward 0 */
  | 'zero'
  /** throw NON_FINITE_INPUT */
  | 'error';

/** Knobs shared by the built-in estimators; each estimator reads only the ones it documents. */
export interface AdvantageOptions {
  /** added to the std before dividing (grpo, batch-std, grpo-pass@k); default 1e-6 (verl; TRL 1e-4, OpenRLHF 1e-9) */
  epsilon?: number;
  /** grpo and grpo-pass@k: divide by the group std; false gives Dr.GRPO (arXiv 2503.20783); default true */
  normalizeByStd?: boolean;
  /** std estimator: 'unbiased' (Bessel, every framework's group std) or 'population'; default 'unbiased' */
  std?: 'unbiased' | 'population';
  /** groups with one scorable member; default 'zero' */
  singletonPolicy?: SingletonPolicy;
  /** a group is zero-variance when max - min <= tolerance * max(1, |max|); default 1e-6 (not `std > 0`: NeMo-RL PR #4161) */
  zeroVarianceTolerance?: number;
  /** NaN rewards; default 'exclude' */
  unscorablePolicy?: UnscorablePolicy;
  /** gae, reinforce++: discount gamma; default 1 */
  gamma?: number;
  /** gae: GAE lambda; default 1 */
  lambda?: number;
  /** gae, reinforce++ (both variants): whiten advantages over the batch's masked tokens; default true */
  whiten?: boolean;
  /** epsilon inside the whitening rsqrt(var + eps); default 1e-8 (verl `masked_whiten`) */
  whitenEpsilon?: number;
}

/** Per-token statistics of the sampling distribution, all [B,T] like the batch (optimal token baseline). */
export interface TokenStatistics {
  /** π_t: the probability of the sampled token (exp of its log-prob under the policy that sampled it) */
  probs: FloatArray;
  /** sum_v π_v^2 at each position: the full distribution's squared norm (verl `sum_pi_squared`) */
  sumSquaredProbs: FloatArray;
  /**
   * optional detached IS weights ρ_t (e.g. truncated IS against the rollout engine); the variance
   * weight of each token is multiplied by ρ_t^2 (verl `tir_optimal_token_baseline`)
   */
  isWeights?: FloatArray;
}

/** Optional inputs an estimator can declare it needs; `computeAdvantages` throws INVALID_ARGUMENT when one is missing. */
export type AdvantageRequirement = 'values' | 'rewardBaselines' | 'tokenStatistics';

/** Everything an estimator sees, already validated by `computeAdvantages`. */
export interface AdvantageContext {
  batchSize: number;
  sequenceLength: number;
  /** [B] combined scalar rewards in float64; NaN only for excluded (unscorable) sequences */
  rewards: Float64Array;
  /** [B,T] 1 = response token */
  lossMask: Uint8Array;
  /** [B] masked-in tokens per row */
  rowLengths: Int32Array;
  /** group membership and float64 statistics over scorable members */
  groups: GroupStatistics;
  /** [B,T] per-token rewards (e.g. -beta*KL), added to the outcome reward on the last response token */
  tokenRewards?: FloatArray;
  /** [B,T] critic values V(s_t) (gae) */
  values?: FloatArray;
  /** [B] reward of the greedy rollout per sequence (remax) */
  rewardBaselines?: FloatArray;
  /** [B,T] sampled-token probabilities and sum of squared probabilities (optimal-token-baseline) */
  tokenStatistics?: TokenStatistics;
  options: AdvantageOptions;
}

/** Per-token output of a token-level estimator; arrays are zero-filled [B,T]. */
export interface TokenAdvantageOutput {
  advantages: Float32Array;
  returns: Float32Array;
}

/**
 * An advantage estimator. Outcome estimators map rewards [B] to sequence advantages [B] that the
 * driver broadcasts over response tokens; token estimators fill [B,T] directly (gae, reinforce++).
 */
export type AdvantageEstimator =
  | {
      readonly id: string;
      readonly description: string;
      readonly level: 'sequence';
      /** inputs that must be present besides rewards and lossMask */
      readonly requires?: ReadonlyArray<AdvantageRequirement>;
      /** returns [B] advantages (and optionally [B] returns; default returns = advantages) */
      compute(context: AdvantageContext): { advantages: Float64Array; returns?: Float64Array };
    }
  | {
      readonly id: string;
      readonly description: string;
      readonly level: 'token';
      readonly requires?: ReadonlyArray<AdvantageRequirement>;
      compute(context: AdvantageContext, output: TokenAdvantageOutput): void;
    };
