import { assertFiniteMasked, assertNumber } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertBatchShape, assertLength } from '../batch/policy-batch';
import type { Registry } from '../registry/create-registry';
import { klEstimators } from './builtin';
import type { KlEstimator } from './kl-estimator';

export interface KlTokenOptions {
  /** [B,T] log π_θ (the values gradients are taken with respect to) */
  logProbs: FloatArray;
  /** [B,T] log π_ref */
  refLogProbs: FloatArray;
  /** [B,T] 1 = response token that carries a KL term; other positions are never read */
  mask: Uint8Array;
  batchSize: number;
  sequenceLength: number;
  /** estimator or registry name (default 'k3', verl's default `kl_loss_type`) */
  estimator?: string | KlEstimator;
  /** where names are looked up (default: the built-in `klEstimators`) */
  registry?: Registry<KlEstimator>;
  /** override the estimator's clamp of |x| (null disables it) */
  logRatioClamp?: number | null;
  /** override the estimator's clamp of the value (null disables it) */
  valueClamp?: number | null;
  /**
   * [B,T] log π_old: makes the estimate IS-corrected, r·kl with r = π_θ/π_old (DeepSeek-V3.2,
   * TRL `use_bias_correction_kl`). The gradient flows through r too, so for k3 ∂(r·k3)/∂log π_θ = r·x,
   * the unbiased off-policy reverse-KL gradient (rl-frameworks.md §3.2 item 9).
   */
  oldLogProbs?: FloatArray;
  /** [B,T] precomputed importance weights, treated as constants (NeMo-RL's `importance_sampling_weights`) */
  importanceWeights?: FloatArray;
  /** |log r| clamp before exp for `oldLogProbs` (default 20, as verl clamps log-ratios; ∂ = 0 where it binds) */
  ratioLogClamp?: number;
}

/** Per-token KL values and their derivatives, before any coefficient or aggregation. */
export interface KlTokens {
  /** [B,T] (IS-weighted) per-token KL estimate; 0 on masked-out positions */
  values: Float64Array;
  /** [B,T] ∂values/∂logProbs; 0 on masked-out positions */
  derivatives: Float64Array;
  /** [B] per-row masked-in token count */
  rowLengths: Int32Array;
  /** masked-in tokens whose log-ratio, value or IS ratio hit a clamp */
  clampedTokens: number;
  /** masked-in tokens */
  tokenCount: number;
  /** the resolved estimator */
  estimator: KlEstimator;
  /** min / mean / max of the importance weight over masked-in tokens (all 1 without IS correction) */
  weightStats: { min: number; mean: number; max: number };
}

/** Evaluate an estimator on every masked-in token, validating shapes and finiteness first. */
export function computeKlTokens(options: KlTokenOptions): KlTokens {
  const { logProbs, refLogProbs, mask, batchSize, sequenceLength, oldLogProbs, importanceWeights, ratioLogClamp = 20 } = options;
  assertBatchShape({ batchSize, sequenceLength, logProbs, refLogProbs, oldLogProbs, lossMask: mask });
  assertLength('importanceWeights', importanceWeights, batchSize * sequenceLength);
  assertFiniteMasked('logProbs', logProbs, mask, sequenceLength);
  assertFiniteMasked('refLogProbs', refLogProbs, mask, sequenceLength);
  if (oldLogProbs !== undefined) assertFiniteMasked('oldLogProbs', oldLogProbs, mask, sequenceLength);
  if (importanceWeights !== undefined) assertFiniteMasked('importanceWeights', importanceWeights, mask, sequenceLength);
  assertNumber('ratioLogClamp', ratioLogClamp, (value) => value > 0, 'a positive number');
  const estimator = resolveEstimator(options);
  const valueSide = withClamps(estimator, options);
  const gradientSide = estimator.gradientFrom === undefined ? valueSide : withClamps(estimator.gradientFrom, {});

  const tokens = batchSize * sequenceLength;
  const values = new Float64Array(tokens);
  const derivatives = new Float64Array(tokens);
  const rowLengths = new Int32Array(batchSize);
  let clampedTokens = 0;
  let tokenCount = 0;
  let weightMin = Number.POSITIVE_INFINITY;
  let weightMax = Number.NEGATIVE_INFINITY;
  let weightSum = 0;
  for (let row = 0; row < batchSize; row++) {
    for (let index = row * sequenceLength; index < (row + 1) * sequenceLength; index++) {
      if (mask[index] === 0) continue;
      rowLengths[row] = (rowLengths[row] as number) + 1;
      tokenCount++;
      const x = (logProbs[index] as number) - (refLogProbs[index] as number);
      const value = valueSide(x);
      const gradient = estimator.gradientFrom === undefined ? value : gradientSide(x);
      let clamped = value.clamped;
      let weight = 1;
      let weightDerivative = 0; // ∂weight/∂log π_θ divided by weight
      if (oldLogProbs !== undefined) {
        const logRatio = (logProbs[index] as number) - (oldLogProbs[index] as number);
        const bounded = Math.min(ratioLogClamp, Math.max(-ratioLogClamp, logRatio));
        weight = Math.exp(bounded);
        if (bounded === logRatio) weightDerivative = 1;
        else clamped = true;
      }
      if (importanceWeights !== undefined) weight *= importanceWeights[index] as number;
      weightMin = Math.min(weightMin, weight);
      weightMax = Math.max(weightMax, weight);
      weightSum += weight;
      values[index] = weight * value.value;
      derivatives[index] = weight * (gradient.derivative + weightDerivative * value.value);
      if (clamped) clampedTokens++;
    }
  }
  const weightStats = tokenCount === 0 ? { min: 1, mean: 1, max: 1 } : { min: weightMin, mean: weightSum / tokenCount, max: weightMax };
  return { values, derivatives, rowLengths, clampedTokens, tokenCount, estimator, weightStats };
}

function resolveEstimator(options: KlTokenOptions): KlEstimator {
  const { estimator = 'k3', registry = klEstimators } = options;
  return typeof estimator === 'string' ? registry.get(estimator) : estimator;
}

type ClampedEstimate = (x: number) => { value: number; derivative: number; clamped: boolean };

/** Wrap an estimator with its clamps; a derivative is 0 wherever a clamp binds (torch.clamp's rule). */
function withClamps(estimator: KlEstimator, overrides: Pick<KlTokenOptions, 'logRatioClamp' | 'valueClamp'>): ClampedEstimate {
  const logRatioClamp = overrides.logRatioClamp === undefined ? estimator.logRatioClamp : overrides.logRatioClamp ?? undefined;
  const valueClamp = overrides.valueClamp === undefined ? estimator.valueClamp : overrides.valueClamp ?? undefined;
  if (logRatioClamp !== undefined) assertNumber('logRatioClamp', logRatioClamp, (value) => value > 0, 'a positive number or null');
  if (valueClamp !== undefined) assertNumber('valueClamp', valueClamp, (value) => value > 0, 'a positive number or null');
  return (x) => {
    let clamped = false;
    let input = x;
    if (logRatioClamp !== undefined && Math.abs(x) > logRatioClamp) {
      input = Math.sign(x) * logRatioClamp;
      clamped = true;
    }
    let value = estimator.value(input);
    let derivative = clamped ? 0 : estimator.derivative(input);
    if (valueClamp !== undefined && Math.abs(value) > valueClamp) {
      value = Math.sign(value) * valueClamp;
      derivative = 0;
      clamped = true;
    }
    return { value, derivative, clamped };
  };
}
