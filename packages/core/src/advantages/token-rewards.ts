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
