import type { FloatArray } from '../batch/float-array';
import { AipoError } from '../errors/aipo-error';
import { countRows } from './entropy-from-logits';

export interface EntropyBoundsFromTopKOptions {
  /** [N,K] log-probs of each position's top-K tokens under the full distribution (what inference engines return); −∞ = no entry */
  logProbs: FloatArray;
  /** K: entries per row */
  topK: number;
  /** V: full vocabulary size (>= K) */
  vocabSize: number;
}

export interface EntropyBounds {
  /** [N] −Σ_topK p log p: a lower bound, since every omitted term −p log p is >= 0 */
  lower: Float32Array;
  /** [N] lower + r·log((V−K)/r) with tail mass r: the bound reached when the tail is uniform */
  upper: Float32Array;
}

/**
 * Bounds on the token entropy when only top-K log-probs are known (rl-frameworks.md §3.2 item 13:
 * entropy needs the full distribution, so from top-K alone it is only approximate). The tail mass
 * r = 1 − Σ_topK p can hold at most r·log((V−K)/r) nats, reached when it is spread uniformly over
 * the V − K other tokens. Log-probs that engines "process" (temperature, top-p) describe the
 * processed distribution, not the policy's.
 */
export function entropyBoundsFromTopK(options: EntropyBoundsFromTopKOptions): EntropyBounds {
  const { logProbs, topK, vocabSize } = options;
  const rows = countRows({ values: logProbs, rowLength: topK, names: { values: 'logProbs', rowLength: 'topK' } });
  if (!Number.isInteger(vocabSize) || vocabSize < topK) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `vocabSize must be an integer >= topK (got vocabSize=${vocabSize}, topK=${topK})` });
  }
  const lower = new Float32Array(rows);
  const upper = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    let mass = 0;
    let partial = 0;
    for (let index = row * topK; index < (row + 1) * topK; index++) {
      const logP = logProbs[index] as number;
      if (logP === Number.NEGATIVE_INFINITY) continue;
      // float32 rounding can put a near-certain token a hair above 0
      if (!(logP <= 1e-6)) {
        throw new AipoError({
          code: 'NON_FINITE_INPUT',
          message: `logProbs[${row},${index - row * topK}] is ${logP}; log-probs must be finite and <= 0`,
          details: { row, column: index - row * topK, value: logP },
        });
      }
      const p = Math.exp(Math.min(0, logP));
      mass += p;
      partial -= p * Math.min(0, logP);
    }
    if (mass > 1 + 1e-4) {
      throw new AipoError({
        code: 'INVALID_ARGUMENT',
        message: `row ${row}: top-K probabilities sum to ${mass} > 1; they are not from one distribution`,
        details: { row, mass },
      });
    }
    const tail = Math.max(0, 1 - mass);
    const others = vocabSize - topK;
    lower[row] = partial;
    upper[row] = partial + (tail > 0 && others > 0 ? tail * Math.log(others / tail) : 0);
  }
  return { lower, upper };
}
