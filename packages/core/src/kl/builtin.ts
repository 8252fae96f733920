import { createRegistry, type Registry } from '../registry/create-registry';
import { absEstimator, k1Estimator, k2Estimator, k3Estimator, straightThrough, type KlEstimator } from './kl-estimator';

/** Every built-in KL estimator, with verl's aliases (`kl`, `mse`, `low_var_kl`). */
export const builtinKlEstimators: ReadonlyArray<readonly [string, KlEstimator]> = [
  ['k1', k1Estimator],
  ['abs', absEstimator],
  ['k2', k2Estimator],
  ['k3', k3Estimator],
  ['k1+', straightThrough(k1Estimator)],
  ['k3+', straightThrough(k3Estimator)],
  ['kl', k1Estimator],
  ['mse', k2Estimator],
  ['low_var_kl', k3Estimator],
];

/** A fresh registry holding the built-ins; add your own estimators to it. */
export function createKlEstimatorRegistry(): Registry<KlEstimator> {
  return createRegistry<KlEstimator>('kl estimator', builtinKlEstimators);
}

/** The default registry `klPenalty` resolves names in. */
export const klEstimators: Registry<KlEstimator> = createKlEstimatorRegistry();
