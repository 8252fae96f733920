import { assertNumber } from '../batch/assert-finite';

/** Chooses the KL coefficient β step by step. */
export interface KlController {
  /** β for the next step */
  readonly coefficient: number;
  /** feed the KL measured on the last batch; returns the new β */
  update(observation: { currentKl: number; steps: number }): number;
}

/** A constant β (verl `kl_ctrl.type="fixed"`, OpenRLHF `FixedKLController`). */
export function createFixedKlController(coefficient: number): KlController {
  assertNumber('coefficient', coefficient, (value) => value >= 0, 'a finite number >= 0');
  return {
    coefficient,
    update: ({ currentKl, steps }) => {
      assertObservation(currentKl, steps);
      return coefficient;
    },
  };
}

export interface AdaptiveKlControllerOptions {
  /** starting β */
  initialCoefficient: number;
  /** the KL to hold (verl default 0.1) */
  targetKl: number;
  /** steps over which a full ±20% error changes β by 20% (verl default 10 000) */
  horizon: number;
}

/**
 * The adaptive controller of Ziegler et al. 2019 ("Fine-Tuning Language Models from Human
 * Preferences", §2.2), as in verl `AdaptiveKLController` and OpenRLHF: the proportional error
 * e = clip(KL/target − 1, −0.2, 0.2) moves β ← β·(1 + e·steps/horizon). `steps` is the number
 * of samples the KL was measured on (verl passes the batch size). The ±0.2 clip bounds each
 * update, so one noisy batch cannot swing β.
 */
export function createAdaptiveKlController(options: AdaptiveKlControllerOptions): KlController {
  const { initialCoefficient, targetKl, horizon } = options;
  assertNumber('initialCoefficient', initialCoefficient, (value) => value >= 0, 'a finite number >= 0');
  assertNumber('targetKl', targetKl, (value) => value > 0, 'a positive number');
  assertNumber('horizon', horizon, (value) => value > 0, 'a positive number');
  let coefficient = initialCoefficient;
  return {
    get coefficient() {
      return coefficient;
    },
    update({ currentKl, steps }) {
      assertObservation(currentKl, steps);
      const error = Math.min(0.2, Math.max(-0.2, currentKl / targetKl - 1));
      // steps > 5·horizon could flip the sign; a negative β would reward divergence, so floor at 0.
      coefficient = Math.max(0, coefficient * (1 + (error * steps) / horizon));
      return coefficient;
    },
  };
}

function assertObservation(currentKl: number, steps: number): void {
  assertNumber('currentKl', currentKl, () => true, 'a finite number');
  assertNumber('steps', steps, (value) => value >= 0, 'a finite number >= 0');
}
