import { createRegistry, type Registry } from '../registry/create-registry';
import type { AdvantageEstimator } from './advantage-estimator';
import { gaeEstimator } from './gae';
import { gpgEstimator } from './gpg';
import { batchStdEstimator, drGrpoEstimator, grpoEstimator } from './grpo';
import { grpoPassAtKEstimator } from './grpo-pass-at-k';
import { maxRlEstimator } from './max-rl';
import { opoEstimator } from './opo';
import { optimalTokenBaselineEstimator } from './optimal-token-baseline';
import { reinforcePlusPlusBaselineEstimator, reinforcePlusPlusEstimator } from './reinforce-plus-plus';
import { remaxEstimator } from './remax';
import { rlooEstimator } from './rloo';

/** Every built-in advantage estimator, in documentation order. */
export const builtinAdvantageEstimators: readonly AdvantageEstimator[] = [
  grpoEstimator,
  drGrpoEstimator,
  batchStdEstimator,
  rlooEstimator,
  reinforcePlusPlusEstimator,
  reinforcePlusPlusBaselineEstimator,
  remaxEstimator,
  opoEstimator,
  gpgEstimator,
  grpoPassAtKEstimator,
  maxRlEstimator,
  gaeEstimator,
  optimalTokenBaselineEstimator,
];

/** A fresh registry holding the built-in estimators; register your own on it. */
export function createAdvantageEstimatorRegistry(): Registry<AdvantageEstimator> {
  return createRegistry<AdvantageEstimator>(
    'advantage estimator',
    builtinAdvantageEstimators.map((estimator) => [estimator.id, estimator] as const),
  );
}

/** The default registry `computeAdvantages` looks names up in. */
export const advantageEstimators: Registry<AdvantageEstimator> = /* @__PURE__ */ createAdvantageEstimatorRegistry();
