import type { AggregationCounts, AggregationMode } from '../aggregation/aggregation-plan';
import type { FloatArray } from '../batch/float-array';
import type { Registry } from '../registry/create-registry';
import type { AgentTokenOptions } from './agent-coefficient';
import type { OffPolicyShapingOptions } from './off-policy-shaping';
import type { Rng } from '../random/create-rng';
import type { PolicyLossBatchStatistics, PolicyLossDefinition, PolicyLossOptions } from './policy-loss-definition';

export interface PolicyLossInput extends AggregationCounts {
  /** a registered loss name ('ppo-clip', 'gspo', ...) or a definition */
  loss: string | PolicyLossDefinition;
  /** where names are looked up; default `policyLosses` */
  registry?: Registry<PolicyLossDefinition>;
  batchSize: number;
  sequenceLength: number;
  /** [B,T] logπ_θ: the values the gradient is taken with respect to */
  logProbs: FloatArray;
  /** [B,T] logπ_old; absent = on-policy (old = stopGradient(logπ), r = 1 with gradient r·∇logπ) */
  oldLogProbs?: FloatArray;
  /** [B,T] per-token advantages (e.g. `computeAdvantages(...).advantages`) */
  advantages?: FloatArray;
  /** [B] per-sequence advantages, an alternative to `advantages` that skips a [B,T] broadcast */
  sequenceAdvantages?: FloatArray;
  /** [B,T] 1 = the token enters the loss */
  lossMask: Uint8Array;
  /** [B,T] TokenSource per token (policy / offPolicy / agent); absent = all policy */
  sourceMask?: Uint8Array;
  /** [B,T] detached importance weights multiplied into every token's loss (TIS / MIS output) */
  isWeights?: FloatArray;
  /** [B,T] log-probs of whoever wrote off-policy or agent tokens (teacher / agent), when known */
  sourceLogProbs?: FloatArray;
  /** aggregation mode; default the loss's own default, else 'token-mean' */
  aggregation?: AggregationMode;
  /** knobs of the loss itself (clip widths, dual clip, ...) */
  options?: PolicyLossOptions;
  /** LUFFY shaping for TokenSource.offPolicy tokens; default preset 'p_div_p_0.1' */
  offPolicy?: OffPolicyShapingOptions;
  /** AIPO coefficient for TokenSource.agent tokens; default identity g, floor 0.1, pessimistic, λ = 1 */
  agent?: AgentTokenOptions;
  /** also return the [B,T] per-token losses (after IS weights, before aggregation); allocates */
  returnTokenLosses?: boolean;
  /** [B,T] buffer to write the gradient into (overwritten, returned as gradLogProbs): reuse it across steps to avoid allocating */
  gradientBuffer?: Float32Array;
  /** allow a loss's fused kernel when the inputs qualify (same results, one pass); default true */
  fastPath?: boolean;
  /** let the fused PPO-clip kernel run its rows in WebAssembly SIMD where the engine has it (bit-identical gradients); default true */
  simd?: boolean;
  /** randomness for losses that sample (Clip-Cov picks its detached tokens with it); required by them */
  rng?: Rng;
}

export interface PolicyLossDiagnostics {
  /** masked-in tokens of this batch */
  tokenCount: number;
  policyTokenCount: number;
  offPolicyTokenCount: number;
  agentTokenCount: number;
  /** fraction of policy tokens held at the lower clip bound (A<0, r < 1-eps_l) */
  clipFractionLow: number;
  /** fraction of policy tokens held at the upper clip bound (A>0, r > 1+eps_h) */
  clipFractionHigh: number;
  /** fraction of policy tokens capped by dual-clip */
  dualClipFraction: number;
  /** ratio statistics over policy tokens (the sequence ratio for sequence-level losses); 0 without policy tokens */
  ratioMean: number;
  ratioMin: number;
  ratioMax: number;
  /** mean of logπ_old - logπ over policy tokens (verl `ppo_kl`) */
  approxKl: number;
  /** fraction of policy tokens whose log-ratio hit the ±clamp (no gradient there) */
  clampedTokenFraction: number;
  /** mean shaped weight f(p) over off-policy tokens (0 without them) */
  offPolicyWeightMean: number;
  /** fraction of agent tokens where the c_min floor term was used */
  agentFloorFraction: number;
  /** the loss value split by token source (they sum to `value`) */
  valueBySource: { policy: number; offPolicy: number; agent: number };
}

export interface PolicyLossResult {
  /** the aggregated loss; 0 for an empty batch, never NaN */
  value: number;
  /** [B,T] ∂value/∂logProbs: backpropagate sum(stopGradient(gradLogProbs) * logProbs) */
  gradLogProbs: Float32Array;
  diagnostics: PolicyLossDiagnostics;
  /** [B,T] per-token losses when `returnTokenLosses` is set */
  tokenLosses?: Float32Array;
  /** what a loss's batch pre-pass found (Clip-Cov / KL-Cov selection, VESPO weights) */
  batchStatistics?: PolicyLossBatchStatistics;
}
