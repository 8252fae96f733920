import { countRowLengths } from '../aggregation/aggregation-plan';
import { assertFiniteMasked } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { assertBatchShape, assertLength } from '../batch/policy-batch';
import { AipoError } from '../errors/aipo-error';
import type { Registry } from '../registry/create-registry';
import type { AdvantageContext, AdvantageEstimator, AdvantageOptions, TokenStatistics } from './advantage-estimator';
import { advantageEstimators } from './builtin';
import { combineRewards, type MultiReward } from './combine-rewards';
import { computeGroupStatistics } from './group-statistics';

export interface ComputeAdvantagesOptions {
  /** a registered estimator name ('grpo', 'rloo', ...) or an estimator object */
  estimator: string | AdvantageEstimator;
  /** where names are looked up; default `advantageEstimators` */
  registry?: Registry<AdvantageEstimator>;
  batchSize: number;
  sequenceLength: number;
  /** [B] outcome rewards (NaN = unscorable), or several components with a combination rule */
  rewards: FloatArray | MultiReward;
  /** [B,T] 1 = response token; advantages are 0 elsewhere */
  lossMask: Uint8Array;
  /** [B] arbitrary group id per sequence (need not be contiguous); absent = one group */
  groupIds?: Int32Array;
  /**
   * [B] 1 = the sequence enters its group's mean/std; 0 = it only receives an advantage against the
   * others' statistics (the group-composition switch of algorithms.md §4, LUFFY's `grpo_split`:
   * statistics over on-policy samples only); default every scorable sequence. When the members of a
   * group all have the same reward, they get 0 while outsiders are still scored against them: with
   * std normalisation that divides by epsilon alone, so prefer `dr-grpo` (LUFFY's released recipe)
   */
  statisticsMask?: Uint8Array;
  /** [B,T] extra per-token rewards, e.g. -beta*KL in the reward (token estimators only) */
  tokenRewards?: FloatArray;
  /** [B,T] critic values (gae) */
  values?: FloatArray;
  /** [B] greedy-rollout rewards (remax) */
  rewardBaselines?: FloatArray;
  /** [B,T] sampled-token probabilities and sum_v π_v^2 per position (optimal-token-baseline) */
  tokenStatistics?: TokenStatistics;
  /** estimator knobs (epsilon, normalizeByStd, singletonPolicy, ...) */
  options?: AdvantageOptions;
}

export interface AdvantageDiagnostics {
  groupCount: number;
  /** groups with exactly one scorable member */
  singletonGroupCount: number;
  /** groups whose reward spread is within the tolerance (singletons included) */
  zeroVarianceGroupCount: number;
  /** zeroVarianceGroupCount / groupCount (0 for no groups) */
  zeroVarianceGroupFraction: number;
  /** sequences with a NaN reward under unscorablePolicy 'exclude' */
  unscorableCount: number;
  /** statistics of the advantage over masked-in tokens (0 when there are none) */
  advantageMean: number;
  advantageMin: number;
  advantageMax: number;
}

export interface AdvantageResult {
  /** [B,T] per-token advantages, 0 on masked-out positions */
  advantages: Float32Array;
  /** [B,T] returns (value targets); equal to the advantages for outcome estimators without their own */
  returns: Float32Array;
  /** [B] per-sequence advantages (sequence-level estimators only) */
  sequenceAdvantages?: Float32Array;
  /** [B] 1 where the sequence's group is zero-variance: callers may filter, mask or keep them (§3.2 item 1) */
  zeroVarianceMask: Uint8Array;
  /** [B] 1 where the reward was usable (0 for NaN rewards under 'exclude') */
  scorableMask: Uint8Array;
  /** the [B] rewards actually used, after combination and the unscorable policy */
  rewards: Float64Array;
  diagnostics: AdvantageDiagnostics;
}

/**
 * Run an advantage estimator over a batch. Statistics run in float64 over scorable sequences; group
 * ids may be any Int32Array. Nothing is mutated.
 */
export function computeAdvantages(options: ComputeAdvantagesOptions): AdvantageResult {
  const { batchSize, sequenceLength, lossMask } = options;
  const prepared = prepare(options);
  const { estimator, context } = prepared;
  const tokens = batchSize * sequenceLength;
  const advantages = new Float32Array(tokens);
  let returns = advantages;
  let sequenceAdvantages: Float32Array | undefined;
  if (estimator.level === 'sequence') {
    const output = runSequenceEstimator(estimator, context);
    sequenceAdvantages = Float32Array.from(output.advantages);
    broadcast(output.advantages, lossMask, sequenceLength, advantages);
    if (output.returns !== undefined) {
      returns = new Float32Array(tokens);
      broadcast(output.returns, lossMask, sequenceLength, returns);
    }
  } else {
    returns = new Float32Array(tokens);
    estimator.compute(context, { advantages, returns });
  }
  return {
    advantages,
    returns,
    ...(sequenceAdvantages === undefined ? {} : { sequenceAdvantages }),
    ...finish(prepared, { advantages, sequenceAdvantages }),
  };
}

export interface SequenceAdvantageResult
  extends Omit<AdvantageResult, 'advantages' | 'returns' | 'sequenceAdvantages'> {
  /** [B] per-sequence advantages */
  sequenceAdvantages: Float32Array;
  /** [B] per-sequence returns when the estimator has its own (remax) */
  sequenceReturns?: Float32Array;
}

/**
 * The same as `computeAdvantages` for sequence-level (outcome) estimators, without the [B,T]
 * broadcast: pass `sequenceAdvantages` straight to `policyLoss`. Token-level estimators (gae,
 * reinforce++) throw INVALID_ARGUMENT here.
 */
export function computeSequenceAdvantages(options: ComputeAdvantagesOptions): SequenceAdvantageResult {
  const prepared = prepare(options);
  const { estimator, context } = prepared;
  if (estimator.level !== 'sequence') {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `advantage estimator "${estimator.id}" is token-level; use computeAdvantages for it`,
      details: { estimator: estimator.id },
    });
  }
  const output = runSequenceEstimator(estimator, context);
  const sequenceAdvantages = Float32Array.from(output.advantages);
  return {
    sequenceAdvantages,
    ...(output.returns === undefined ? {} : { sequenceReturns: Float32Array.from(output.returns) }),
    ...finish(prepared, { advantages: undefined, sequenceAdvantages }),
  };
}

interface Prepared {
  estimator: AdvantageEstimator;
  context: AdvantageContext;
  scorableMask: Uint8Array;
}

function prepare(options: ComputeAdvantagesOptions): Prepared {
  const { batchSize, sequenceLength, lossMask, groupIds } = options;
  const settings = options.options ?? {};
  assertBatchShape({ batchSize, sequenceLength, lossMask, groupIds });
  assertLength('lossMask', lossMask, batchSize * sequenceLength);
  assertLength('tokenRewards', options.tokenRewards, batchSize * sequenceLength);
  assertLength('values', options.values, batchSize * sequenceLength);
  assertLength('rewardBaselines', options.rewardBaselines, batchSize);
  assertLength('statisticsMask', options.statisticsMask, batchSize);
  assertLength('tokenStatistics.probs', options.tokenStatistics?.probs, batchSize * sequenceLength);
  assertLength('tokenStatistics.sumSquaredProbs', options.tokenStatistics?.sumSquaredProbs, batchSize * sequenceLength);
  assertLength('tokenStatistics.isWeights', options.tokenStatistics?.isWeights, batchSize * sequenceLength);
  const estimator =
    typeof options.estimator === 'string'
      ? (options.registry ?? advantageEstimators).get(options.estimator)
      : options.estimator;
  for (const input of estimator.requires ?? []) {
    if (options[input] === undefined) {
      throw new AipoError({
        code: 'INVALID_ARGUMENT',
        message: `advantage estimator "${estimator.id}" needs ${input}`,
        details: { estimator: estimator.id, missing: input },
      });
    }
  }
  const rewards = resolveRewards(options, settings);
  const scorableMask = new Uint8Array(batchSize);
  for (let row = 0; row < batchSize; row++) scorableMask[row] = Number.isNaN(rewards[row] as number) ? 0 : 1;
  if (options.tokenRewards !== undefined)
    assertFiniteMasked('tokenRewards', options.tokenRewards, lossMask, sequenceLength);
  if (options.values !== undefined) assertFiniteMasked('values', options.values, lossMask, sequenceLength);
  if (options.rewardBaselines !== undefined) {
    for (let row = 0; row < batchSize; row++) {
      const baseline = options.rewardBaselines[row] as number;
      if (scorableMask[row] === 1 && !Number.isFinite(baseline)) {
        throw new AipoError({
          code: 'NON_FINITE_INPUT',
          message: `rewardBaselines[${row}] is ${baseline}`,
          details: { row },
        });
      }
    }
  }
  const groups = computeGroupStatistics({ rewards, groupIds, settings, statisticsMask: options.statisticsMask });
  const context: AdvantageContext = {
    batchSize,
    sequenceLength,
    rewards,
    lossMask,
    rowLengths: countRowLengths(lossMask, batchSize, sequenceLength),
    groups,
    options: settings,
    ...(options.tokenRewards === undefined ? {} : { tokenRewards: options.tokenRewards }),
    ...(options.values === undefined ? {} : { values: options.values }),
    ...(options.rewardBaselines === undefined ? {} : { rewardBaselines: options.rewardBaselines }),
    ...(options.tokenStatistics === undefined ? {} : { tokenStatistics: options.tokenStatistics }),
  };
  return { estimator, context, scorableMask };
}

function runSequenceEstimator(estimator: AdvantageEstimator & { level: 'sequence' }, context: AdvantageContext) {
  const output = estimator.compute(context);
  assertLength(`${estimator.id} advantages`, output.advantages, context.batchSize);
  assertLength(`${estimator.id} returns`, output.returns, context.batchSize);
  return output;
}

function finish(
  prepared: Prepared,
  outputs: { advantages: Float32Array | undefined; sequenceAdvantages: Float32Array | undefined },
): Pick<AdvantageResult, 'zeroVarianceMask' | 'scorableMask' | 'rewards' | 'diagnostics'> {
  const { context, scorableMask } = prepared;
  const { groups, batchSize } = context;
  const zeroVarianceMask = new Uint8Array(batchSize);
  for (let row = 0; row < batchSize; row++)
    zeroVarianceMask[row] = groups.zeroVariance[groups.groupOf[row] as number] as number;
  return {
    zeroVarianceMask,
    scorableMask,
    rewards: context.rewards,
    diagnostics: summarize({
      advantages: outputs.advantages ?? new Float32Array(0),
      lossMask: context.lossMask,
      groups,
      scorableMask,
      sequenceAdvantages: outputs.sequenceAdvantages,
      rowLengths: context.rowLengths,
    }),
  };
}

function resolveRewards(options: ComputeAdvantagesOptions, settings: AdvantageOptions): Float64Array {
  const { batchSize } = options;
  const input = options.rewards;
  const rewards = isMultiReward(input)
    ? combineRewards({ ...input, ...(options.groupIds === undefined ? {} : { groupIds: options.groupIds }) })
    : Float64Array.from(input);
  assertLength('rewards', rewards, batchSize);
  const policy = settings.unscorablePolicy ?? 'exclude';
  for (let row = 0; row < batchSize; row++) {
    const reward = rewards[row] as number;
    if (Number.isNaN(reward)) {
      if (policy === 'error') {
        throw new AipoError({
          code: 'NON_FINITE_INPUT',
          message: `rewards[${row}] is NaN (unscorable); set unscorablePolicy to 'exclude' or 'zero' to accept it`,
          details: { row },
        });
      }
      if (policy === 'zero') rewards[row] = 0;
    } else if (!Number.isFinite(reward)) {
      throw new AipoError({
        code: 'NON_FINITE_INPUT',
        message: `rewards[${row}] is ${reward}`,
        details: { row, reward },
      });
    }
  }
  return rewards;
}

function isMultiReward(rewards: FloatArray | MultiReward): rewards is MultiReward {
  return !(rewards instanceof Float32Array || rewards instanceof Float64Array);
}

function broadcast(perSequence: Float64Array, mask: Uint8Array, sequenceLength: number, out: Float32Array): void {
  for (let row = 0; row < perSequence.length; row++) {
    const value = perSequence[row] as number;
    if (value === 0) continue;
    for (let index = row * sequenceLength; index < (row + 1) * sequenceLength; index++) {
      if (mask[index] !== 0) out[index] = value;
    }
  }
}

function summarize(input: {
  advantages: Float32Array;
  lossMask: Uint8Array;
  groups: ReturnType<typeof computeGroupStatistics>;
  scorableMask: Uint8Array;
  sequenceAdvantages: Float32Array | undefined;
  rowLengths: Int32Array;
}): AdvantageDiagnostics {
  const { advantages, lossMask, groups, scorableMask, sequenceAdvantages, rowLengths } = input;
  let count = 0;
  let sum = 0;
  let minimum = Number.POSITIVE_INFINITY;
  let maximum = Number.NEGATIVE_INFINITY;
  const record = (value: number, weight: number) => {
    count += weight;
    sum += value * weight;
    if (value < minimum) minimum = value;
    if (value > maximum) maximum = value;
  };
  if (sequenceAdvantages !== undefined) {
    // every token of a row carries the row's advantage: O(B) instead of a pass over [B,T]
    for (let row = 0; row < sequenceAdvantages.length; row++) {
      const length = rowLengths[row] as number;
      if (length > 0) record(sequenceAdvantages[row] as number, length);
    }
  } else {
    for (let index = 0; index < advantages.length; index++) {
      if (lossMask[index] !== 0) record(advantages[index] as number, 1);
    }
  }
  let singletonGroupCount = 0;
  let zeroVarianceGroupCount = 0;
  for (let group = 0; group < groups.count; group++) {
    if (groups.size[group] === 1) singletonGroupCount++;
    if (groups.zeroVariance[group] === 1) zeroVarianceGroupCount++;
  }
  let unscorableCount = 0;
  for (const scorable of scorableMask) if (scorable === 0) unscorableCount++;
  return {
    groupCount: groups.count,
    singletonGroupCount,
    zeroVarianceGroupCount,
    zeroVarianceGroupFraction: groups.count > 0 ? zeroVarianceGroupCount / groups.count : 0,
    unscorableCount,
    advantageMean: count > 0 ? sum / count : 0,
    advantageMin: count > 0 ? minimum : 0,
    advantageMax: count > 0 ? maximum : 0,
  };
}
