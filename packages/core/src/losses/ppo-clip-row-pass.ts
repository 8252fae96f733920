import { nonFiniteError } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import type { AipoError } from '../errors/aipo-error';
import { expInRange } from '../math/fast-exp';
import { badLogProbError } from './log-prob-error';
import {
  newStats,
  STAT_CLAMPED,
  STAT_CLIP_DUAL,
  STAT_CLIP_HIGH,
  STAT_CLIP_LOW,
  STAT_KL_SUM,
  STAT_POLICY_TOKENS,
  STAT_POLICY_VALUE,
  STAT_RATIO_MAX,
  STAT_RATIO_MIN,
  STAT_RATIO_SUM,
} from './loss-stats';
import type { FusedTokenMeanInput } from './ppo-clip-token-mean';

// The state and the cold paths of the fused PPO-clip kernel (`ppo-clip-token-mean.ts`): what a row
// loop reads, how it adds its sums, and the rare token it hands off.

/**
 * Everything one row of the pass reads, in one fixed-shape object. The per-token loop lives in its own
 * small function called once per row: V8 then optimizes it as a whole function after a few rows,
 * whereas a single function holding the B×T loop ran in on-stack-replacement code that deoptimized on
 * every call at the first post-loop statement (measured: ~2× slower, `--trace-deopt`).
 */
/** `RowPass.numbers` slots: the token-mean factor 1/N, the active clip bounds, the log-ratio clamp, the dual clip c, the log-prob tolerance, the advantage scale and the current row's scaled advantage. */
export const PASS_FACTOR = 0;
export const PASS_LOWER = 1;
export const PASS_UPPER = 2;
export const PASS_CLAMP = 3;
export const PASS_DUAL_CLIP = 4;
export const PASS_TOLERANCE = 5;
export const PASS_ADVANTAGE_SCALE = 6;
export const PASS_ROW_ADVANTAGE = 7;
const PASS_SLOTS = 8;

export class RowPass {
  readonly sequenceLength: number;
  readonly logProbs: FloatArray;
  readonly oldLogProbs: FloatArray;
  readonly advantages: FloatArray | undefined;
  readonly lossMask: Uint8Array;
  readonly gradLogProbs: Float32Array;
  readonly reused: boolean;
  readonly preserve: boolean;
  /**
   * the scalar knobs, indexed by the PASS_* slots. A Float64Array, not number fields: a field that
   * may hold a small integer (a clamp of 20) or a double is stored tagged, and TurboFan re-checked and
   * unboxed every such loop-invariant on every token (`--print-opt-code`: a heap-number map check per
   * use); a Float64Array element loads as a raw double once, before the loop
   */
  readonly numbers = new Float64Array(PASS_SLOTS);
  readonly stats = newStats();
  /** first index of the current row */
  start = 0;

  constructor(input: FusedTokenMeanInput, gradLogProbs: Float32Array, factor: number) {
    const { options } = input;
    this.sequenceLength = input.sequenceLength;
    this.logProbs = input.logProbs;
    this.oldLogProbs = input.oldLogProbs;
    this.advantages = input.advantages;
    this.lossMask = input.lossMask;
    this.gradLogProbs = gradLogProbs;
    this.reused = input.gradientBuffer !== undefined;
    this.preserve = options.gradientPreservingClip;
    const numbers = this.numbers;
    numbers[PASS_FACTOR] = factor;
    // the clip bounds with clip: false folded in (±Infinity never binds)
    numbers[PASS_LOWER] = options.clip ? 1 - options.clipLow : Number.NEGATIVE_INFINITY;
    numbers[PASS_UPPER] = options.clip ? 1 + options.clipHigh : Number.POSITIVE_INFINITY;
    numbers[PASS_CLAMP] = options.logRatioClamp;
    numbers[PASS_DUAL_CLIP] = options.dualClip;
    numbers[PASS_TOLERANCE] = input.logProbTolerance;
    numbers[PASS_ADVANTAGE_SCALE] = options.advantageScale;
  }
}

export interface RowSums {
  count: number;
  valueSum: number;
  ratioSum: number;
  klSum: number;
  logRatioMin: number;
  logRatioMax: number;
  clipLow: number;
  clipHigh: number;
  clipDual: number;
}

export function addRow(pass: RowPass, sums: RowSums): void {
  const { stats } = pass;
  stats[STAT_POLICY_TOKENS] = (stats[STAT_POLICY_TOKENS] as number) + sums.count;
  stats[STAT_RATIO_SUM] = (stats[STAT_RATIO_SUM] as number) + sums.ratioSum;
  if (sums.count > 0) {
    stats[STAT_RATIO_MIN] = Math.min(stats[STAT_RATIO_MIN] as number, expInRange(sums.logRatioMin));
    stats[STAT_RATIO_MAX] = Math.max(stats[STAT_RATIO_MAX] as number, expInRange(sums.logRatioMax));
  }
  stats[STAT_KL_SUM] = (stats[STAT_KL_SUM] as number) + sums.klSum;
  stats[STAT_CLIP_LOW] = (stats[STAT_CLIP_LOW] as number) + sums.clipLow;
  stats[STAT_CLIP_HIGH] = (stats[STAT_CLIP_HIGH] as number) + sums.clipHigh;
  stats[STAT_CLIP_DUAL] = (stats[STAT_CLIP_DUAL] as number) + sums.clipDual;
  stats[STAT_POLICY_VALUE] = (stats[STAT_POLICY_VALUE] as number) + sums.valueSum;
}

/**
 * The rare token the hot loops hand off: a bad value (typed error naming the array and position) or
 * a log-ratio beyond ±clamp, which enters the loss at the clamped ratio with no gradient (as in the
 * general path). Adds its own counts to the pass's stats.
 */
export function offRangeToken(pass: RowPass, index: number, advantage: number): void {
  const { logProbs, oldLogProbs, stats, numbers } = pass;
  const tolerance = numbers[PASS_TOLERANCE] as number;
  const clampLimit = numbers[PASS_CLAMP] as number;
  const lower = numbers[PASS_LOWER] as number;
  const upper = numbers[PASS_UPPER] as number;
  const dualClip = numbers[PASS_DUAL_CLIP] as number;
  const logProb = logProbs[index] as number;
  const oldLogProb = oldLogProbs[index] as number;
  const logRatio = logProb - oldLogProb;
  if (!(logProb <= tolerance) || !Number.isFinite(logRatio) || !Number.isFinite(advantage)) {
    throw tokenError({ logProb, oldLogProb, advantage, index, sequenceLength: pass.sequenceLength, tolerance });
  }
  const ratio = expInRange(logRatio > 0 ? clampLimit : -clampLimit);
  let loss = -advantage * ratio;
  if (advantage > 0 && ratio > upper) {
    loss = -advantage * upper;
    stats[STAT_CLIP_HIGH] = (stats[STAT_CLIP_HIGH] as number) + 1;
  } else if (advantage < 0 && ratio < lower) {
    loss = -advantage * lower;
    stats[STAT_CLIP_LOW] = (stats[STAT_CLIP_LOW] as number) + 1;
  } else if (advantage < 0 && ratio > dualClip) {
    loss = -advantage * dualClip;
    stats[STAT_CLIP_DUAL] = (stats[STAT_CLIP_DUAL] as number) + 1;
  }
  stats[STAT_POLICY_TOKENS] = (stats[STAT_POLICY_TOKENS] as number) + 1;
  stats[STAT_CLAMPED] = (stats[STAT_CLAMPED] as number) + 1;
  stats[STAT_RATIO_SUM] = (stats[STAT_RATIO_SUM] as number) + ratio;
  stats[STAT_RATIO_MIN] = Math.min(stats[STAT_RATIO_MIN] as number, ratio);
  stats[STAT_RATIO_MAX] = Math.max(stats[STAT_RATIO_MAX] as number, ratio);
  stats[STAT_KL_SUM] = (stats[STAT_KL_SUM] as number) - logRatio;
  stats[STAT_POLICY_VALUE] = (stats[STAT_POLICY_VALUE] as number) + loss;
  pass.gradLogProbs[index] = 0;
}

function tokenError(input: {
  logProb: number;
  oldLogProb: number;
  advantage: number;
  index: number;
  sequenceLength: number;
  tolerance: number;
}): AipoError {
  const { logProb, oldLogProb, advantage, index, sequenceLength } = input;
  if (Number.isFinite(logProb) && !Number.isFinite(oldLogProb))
    return nonFiniteError('oldLogProbs', index, oldLogProb, sequenceLength);
  if (Number.isFinite(logProb) && !Number.isFinite(advantage))
    return nonFiniteError('advantages', index, advantage, sequenceLength);
  return badLogProbError(index, logProb, sequenceLength);
}
