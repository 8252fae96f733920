import type { AggregationMode } from '../aggregation/aggregation-plan';
import { assertNumber } from '../batch/assert-finite';
import { AipoError } from '../errors/aipo-error';
import type { FloatArray } from '../batch/float-array';
import type { ClipCovOptions, CovarianceSelection } from './clip-cov';
import type { KlCovOptions } from './kl-cov';
import type { PolicyLossInput, PolicyLossResult } from './policy-loss-input';
import type { VespoOptions } from './vespo';
import type { FusedTokenMeanInput } from './ppo-clip-token-mean';

/** Knobs of the built-in policy losses; each loss reads the ones it documents. Names are unambiguous (§3.2 item 11). */
export interface PolicyLossOptions {
  /** PPO-style clip: lower bound 1 - clipEpsLow; default 0.2 */
  clipEpsLow?: number;
  /** upper bound 1 + clipEpsHigh; default = clipEpsLow (DAPO clip-higher: 0.28) */
  clipEpsHigh?: number;
  /** dual-clip constant c > 1 capping the loss of A<0 tokens at -A*c (arXiv 1912.09729); default off */
  dualClip?: number;
  /** clipped tokens keep the bound's value but get gradient bound*∇logπ (GPPO / AIPO prototype); default false */
  gradientPreservingClip?: boolean;
  /** false turns PPO clipping off (LUFFY's `loss_remove_clip`): l = -A*r; default true */
  clip?: boolean;
  /** log r is clamped to ±this before exp, and clamped tokens get no gradient; default 20 (verl, OpenRLHF) */
  logRatioClamp?: number;
  /** sequence-level losses clamp log s to ±this; default 10 (verl GSPO) */
  sequenceLogRatioClamp?: number;
  /** CISPO: absolute cap on the detached ratio, TRL style (e.g. 5), instead of [1-clipEpsLow, 1+clipEpsHigh] */
  ratioCapAbs?: number;
  /** α: scales the advantage of policy tokens (LUFFY's `prefix_reward_weight_alpha`; off-policy tokens use `offPolicy.advantageScale`); default 1 */
  advantageScale?: number;
  /** SAPO gate temperature for A > 0; default 1.0 */
  sapoTauPositive?: number;
  /** SAPO gate temperature for A <= 0; default 1.05 */
  sapoTauNegative?: number;
  /** 'clip-cov': selection ratio and covariance bounds (verl defaults 2e-4, (1, 5)) */
  clipCov?: ClipCovOptions;
  /** 'kl-cov': selection ratio and the coefficient k of k*|log r| (verl defaults 2e-4, 1) */
  klCov?: KlCovOptions;
  /** 'vespo': (k, lambda) of the sequence weight phi for A > 0 and A <= 0 */
  vespo?: VespoOptions;
}

/** Options with every default filled in and validated. */
export interface ResolvedPolicyLossOptions {
  clipLow: number;
  clipHigh: number;
  dualClip: number;
  gradientPreservingClip: boolean;
  clip: boolean;
  logRatioClamp: number;
  sequenceLogRatioClamp: number;
  ratioCapAbs: number;
  advantageScale: number;
  sapoTauPositive: number;
  sapoTauNegative: number;
}

/** Clip outcome of one token, for the clip-fraction diagnostics. */
export const ClipFlag = { none: 0, low: 1, high: 2, dual: 3 } as const;

// Plain constants for hot loops: a property load from a shared object costs a map check per token,
// and a map change anywhere (seen with V8 on Node 22) turns that check into a deopt loop.
export const CLIP_NONE = 0;
export const CLIP_LOW = 1;
export const CLIP_HIGH = 2;
export const CLIP_DUAL = 3;

/** Scratch output of a token loss: the per-token loss and its derivative with respect to log r. */
export interface TokenLossOutput {
  value: number;
  /** ∂l/∂log r (= ∂l/∂logπ for token-level ratios), with stop-gradient semantics of the loss */
  gradLogRatio: number;
  clip: number;
}

/** One token's inputs: r is the (token or sequence) ratio, already clamped in log space. */
export interface TokenLossInput {
  ratio: number;
  advantage: number;
  logProb: number;
  /** this token's entry of the batch pre-pass's `tokenTerms` (0 without a pre-pass) */
  batchTerm?: number;
}

/** What a batch pre-pass sees: the call (shapes already validated) and its resolved options. */
export interface PolicyLossBatchContext {
  input: PolicyLossInput;
  options: ResolvedPolicyLossOptions;
}

/** Batch statistics a pre-pass reports back through `PolicyLossResult.batchStatistics`. */
export interface PolicyLossBatchStatistics {
  /** Clip-Cov / KL-Cov: which tokens the covariance test selected */
  covariance?: CovarianceSelection;
  /** VESPO: [B] the detached sequence weight phi_i */
  sequenceWeights?: Float64Array;
}

/** What a batch pre-pass hands to the per-token driver. */
export interface PolicyLossBatchPlan {
  /** [B,T] detached per-token weights that replace the caller's `isWeights` for this call */
  isWeights?: FloatArray;
  /** [B,T] a per-token value the loss reads as `TokenLossInput.batchTerm` */
  tokenTerms?: FloatArray;
  /** handed back to the caller as `PolicyLossResult.batchStatistics` */
  statistics?: PolicyLossBatchStatistics;
}

/**
 * A policy loss. The driver (`policyLoss`) owns masks, sources, IS weights, clamping, aggregation
 * and diagnostics; a loss only says what one policy token costs. `ratioLevel: 'sequence'` makes the
 * driver feed the sequence ratio s_i = exp(mean_t log r_t) (GSPO) instead of the token ratio, and
 * distribute ∂/∂log s_i evenly over the row's policy tokens.
 */
export interface PolicyLossDefinition {
  readonly id: string;
  readonly description: string;
  readonly ratioLevel: 'token' | 'sequence';
  /** the mode used when the caller names none (GSPO and SAPO: seq-mean-token-mean, as verl forces) */
  readonly defaultAggregation?: AggregationMode;
  /** per-token loss of a policy token; must not allocate */
  token(input: TokenLossInput, options: ResolvedPolicyLossOptions, out: TokenLossOutput): void;
  /**
   * sequence level only: transform a token's log r before it enters the sequence mean (GMPO's
   * sign-aware clip); returns the transformed value and writes whether it passes gradient into `out.clip`
   * (0 = passes).
   */
  sequenceLogRatio?(
    logRatio: number,
    advantage: number,
    options: ResolvedPolicyLossOptions,
    out: TokenLossOutput,
  ): number;
  /**
   * optional single-pass kernel for the common case (all tokens from the policy, no IS weights,
   * token-mean, no token losses requested); must give the same result as the general path
   */
  readonly fusedTokenMean?: (input: FusedTokenMeanInput) => PolicyLossResult;
  /**
   * optional pass over the whole batch before the per-token loop, for losses whose per-token cost
   * depends on batch statistics (Clip-Cov / KL-Cov covariance selection, VESPO sequence weights);
   * its plan can replace the IS weights and feed one extra value per token to `token`
   */
  readonly prepareBatch?: (context: PolicyLossBatchContext) => PolicyLossBatchPlan;
}

export function resolvePolicyLossOptions(options: PolicyLossOptions = {}): ResolvedPolicyLossOptions {
  const clipLow = options.clipEpsLow ?? 0.2;
  const clipHigh = options.clipEpsHigh ?? clipLow;
  assertNumber('clipEpsLow', clipLow, (value) => value >= 0 && value < 1, 'in [0, 1)');
  assertNumber('clipEpsHigh', clipHigh, (value) => value >= 0, '>= 0');
  if (options.dualClip !== undefined)
    assertNumber('dualClip', options.dualClip, (value) => value > 1, '> 1 (verl asserts c > 1)');
  const logRatioClamp = options.logRatioClamp ?? 20;
  assertNumber(
    'logRatioClamp',
    logRatioClamp,
    (value) => value > 0 && value < 80,
    'in (0, 80) so exp stays finite in float32',
  );
  const sequenceLogRatioClamp = options.sequenceLogRatioClamp ?? 10;
  assertNumber('sequenceLogRatioClamp', sequenceLogRatioClamp, (value) => value > 0 && value < 80, 'in (0, 80)');
  if (options.ratioCapAbs !== undefined) assertNumber('ratioCapAbs', options.ratioCapAbs, (value) => value > 0, '> 0');
  const advantageScale = options.advantageScale ?? 1;
  assertNumber('advantageScale', advantageScale, (value) => value >= 0, '>= 0');
  const sapoTauPositive = options.sapoTauPositive ?? 1;
  const sapoTauNegative = options.sapoTauNegative ?? 1.05;
  assertNumber('sapoTauPositive', sapoTauPositive, (value) => value > 0, '> 0');
  assertNumber('sapoTauNegative', sapoTauNegative, (value) => value > 0, '> 0');
  if (options.clip !== undefined && typeof options.clip !== 'boolean') {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'clip must be a boolean' });
  }
  return {
    clipLow,
    clipHigh,
    dualClip: options.dualClip ?? Number.POSITIVE_INFINITY,
    gradientPreservingClip: options.gradientPreservingClip ?? false,
    clip: options.clip ?? true,
    logRatioClamp,
    sequenceLogRatioClamp,
    ratioCapAbs: options.ratioCapAbs ?? Number.NaN,
    advantageScale,
    sapoTauPositive,
    sapoTauNegative,
  };
}
