import type { AdvantageContext } from './advantage-estimator';

/**
 * r[i,t]: the per-token reward of row i, the outcome reward R_i on the last masked-in token plus any
 * `tokenRewards` (e.g. -beta*KL when the KL sits in the reward), as verl and OpenRLHF place it.
 */
export function tokenReward(context: AdvantageContext, row: number, column: number, lastColumn: number): number {
  const index = row * context.sequenceLength + column;
  const extra = context.tokenRewards === undefined ? 0 : (context.tokenRewards[index] as number);
  return column === lastColumn ? extra + (context.rewards[row] as number) : extra;
}

/** Column of the last masked-in token of a row, or -1 for an empty row. */
export function lastMaskedColumn(mask: Uint8Array, row: number, sequenceLength: number): number {
  for (let column = sequenceLength - 1; column >= 0; column--) {
    if (mask[row * sequenceLength + column] !== 0) return column;
  }
  return -1;
}

/**
 * Discounted returns of one row, G_t = r_t + γ·G_{t+1} over its masked-in tokens (masked-out
 * positions are skipped, as verl does for observation tokens), written into `returns`.
 * Returns the row's last masked-in column (-1 for an empty row).
 */
export function writeDiscountedReturns(context: AdvantageContext, row: number, gamma: number, returns: Float32Array): number {
  const { lossMask, sequenceLength } = context;
  const last = lastMaskedColumn(lossMask, row, sequenceLength);
  let running = 0;
  for (let column = last; column >= 0; column--) {
    const index = row * sequenceLength + column;
    if (lossMask[index] === 0) continue;
    running = tokenReward(context, row, column, last) + gamma * running;
    returns[index] = running;
  }
  return last;
}
