import { assertNumber } from '../batch/assert-finite';
import type { FloatArray } from '../batch/float-array';
import { AipoError } from '../errors/aipo-error';

/**
 * DAPO's soft overlong punishment (arXiv 2503.14476 §3.4; verl DAPO reward manager, OpenRLHF
 * `overlong_buffer_len`): inside the last `bufferLength` tokens before `maxLength` the reward drops
 * linearly, R += min(-(L - (Lmax - Lbuf)) / Lbuf * factor, 0); beyond maxLength the penalty keeps
 * growing unless `capAtFactor` (OpenRLHF) caps it at -factor. NaN (unscorable) rewards stay NaN.
 */
export function overlongPenalty(options: {
  /** [B] rewards */
  rewards: FloatArray;
  /** [B] response lengths in tokens */
  lengths: ArrayLike<number>;
  /** Lmax, the generation limit */
  maxLength: number;
  /** Lbuf, the soft zone before Lmax */
  bufferLength: number;
  /** penalty at the end of the buffer; default 1 */
  penaltyFactor?: number;
  /** cap the penalty at -penaltyFactor; default true */
  capAtFactor?: boolean;
}): { rewards: Float32Array; penalizedCount: number } {
  const { rewards, lengths, maxLength, bufferLength } = options;
  if (lengths.length !== rewards.length) {
    throw new AipoError({
      code: 'SHAPE_MISMATCH',
      message: `lengths has ${lengths.length} elements, expected ${rewards.length}`,
    });
  }
  assertNumber('maxLength', maxLength, (value) => value > 0, '> 0');
  assertNumber('bufferLength', bufferLength, (value) => value > 0 && value <= maxLength, 'in (0, maxLength]');
  const factor = options.penaltyFactor ?? 1;
  assertNumber('penaltyFactor', factor, (value) => value >= 0, '>= 0');
  const cap = options.capAtFactor ?? true;
  const shaped = new Float32Array(rewards.length);
  let penalizedCount = 0;
  for (let row = 0; row < rewards.length; row++) {
    const length = lengths[row] as number;
    assertNumber(`lengths[${row}]`, length, (value) => value >= 0, '>= 0');
    let penalty = Math.min((-(length - (maxLength - bufferLength)) / bufferLength) * factor, 0);
    if (cap) penalty = Math.max(penalty, -factor);
    if (penalty < 0) penalizedCount++;
    shaped[row] = (rewards[row] as number) + penalty;
  }
  return { rewards: shaped, penalizedCount };
}
