import { nonFiniteError } from '../batch/assert-finite';
import { AipoError } from '../errors/aipo-error';

/** Log-probs above this are rejected: a log-probability is <= 0 (float32 log-softmax may round to tiny positives). */
export const LOG_PROB_TOLERANCE = 1e-4;

/** The error for a masked-in log-prob that is non-finite or above LOG_PROB_TOLERANCE. */
export function badLogProbError(index: number, logProb: number, sequenceLength: number): AipoError {
  if (!Number.isFinite(logProb)) return nonFiniteError('logProbs', index, logProb, sequenceLength);
  const row = Math.floor(index / sequenceLength);
  return new AipoError({
    code: 'INVALID_ARGUMENT',
    message: `logProbs[${row},${index - row * sequenceLength}] is ${logProb} > 0: a log-probability cannot be positive`,
    details: { row, column: index - row * sequenceLength, value: logProb },
  });
}
