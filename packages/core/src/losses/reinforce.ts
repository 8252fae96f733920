import { CLIP_NONE, type PolicyLossDefinition } from './policy-loss-definition';

/**
 * REINFORCE / GPG loss (verl `gpg`, `compute_policy_loss_reinforce`): l = -A * logπ. IS weights
 * (`isWeights`, e.g. truncated IS from `importanceWeights`) multiply it in the driver, giving
 * verl's bypass mode -w * A * logπ with w detached.
 */
export const reinforceLoss: PolicyLossDefinition = {
  id: 'reinforce',
  description: 'plain policy gradient -A * logp (times detached IS weights when given)',
  ratioLevel: 'token',
  token(input, _options, out) {
    out.clip = CLIP_NONE;
    out.value = -input.advantage * input.logProb;
    out.gradLogRatio = -input.advantage;
  },
};
