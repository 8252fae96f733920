import { assertNumber } from '../batch/assert-finite';
import { AipoError } from '../errors/aipo-error';

export interface AdaptiveEntropyControllerOptions {
  /** the entropy to hold (TRL `entropy_target` default 0.2) */
  targetEntropy: number;
  /** starting coefficient c */
  initialCoefficient: number;
  /** step δ added or removed per update */
  delta: number;
  /** lower bound of c (default 0) */
  minCoefficient?: number;
  /** upper bound of c (default 1) */
  maxCoefficient?: number;
}

export interface AdaptiveEntropyController {
  /** the internal coefficient c (kept even while the bonus is switched off) */
  readonly coefficient: number;
  /** the coefficient to use for the next step: c while entropy <= target, else 0 */
  readonly activeCoefficient: number;
  /** feed the measured mean entropy of the last step; returns the new active coefficient */
  update(observation: { entropy: number }): number;
}

/**
 * Skywork-OR1's adaptive entropy control (arXiv 2505.22312 §3.2.4; TRL `use_adaptive_entropy`):
 * after each step c ← clip(c + δ, cmin, cmax) when the entropy is at or below target, else
 * c ← clip(c − δ, cmin, cmax); the bonus is applied only while the entropy is at or below target,
 * so it props entropy up without inflating it once the target is reached.
 */
export function createAdaptiveEntropyController(options: AdaptiveEntropyControllerOptions): AdaptiveEntropyController {
  const { targetEntropy, initialCoefficient, delta, minCoefficient = 0, maxCoefficient = 1 } = options;
  assertNumber('targetEntropy', targetEntropy, (value) => value >= 0, 'a finite number >= 0');
  assertNumber('delta', delta, (value) => value >= 0, 'a finite number >= 0');
  assertNumber('minCoefficient', minCoefficient, (value) => value >= 0, 'a finite number >= 0');
  assertNumber('maxCoefficient', maxCoefficient, (value) => value >= minCoefficient, `a finite number >= minCoefficient`);
  assertNumber('initialCoefficient', initialCoefficient, (value) => value >= minCoefficient && value <= maxCoefficient, 'within [minCoefficient, maxCoefficient]');
  let coefficient = initialCoefficient;
  let active = initialCoefficient;
  return {
    get coefficient() {
      return coefficient;
    },
    get activeCoefficient() {
      return active;
    },
    update({ entropy }) {
      if (!Number.isFinite(entropy) || entropy < 0) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `entropy must be a finite number >= 0 (got ${entropy})`, details: { entropy } });
      }
      const low = entropy <= targetEntropy;
      coefficient = Math.min(maxCoefficient, Math.max(minCoefficient, coefficient + (low ? delta : -delta)));
      active = low ? coefficient : 0;
      return active;
    },
  };
}
