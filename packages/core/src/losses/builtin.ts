import { createRegistry, type Registry } from '../registry/create-registry';
import { cispoLoss } from './cispo';
import { clipCovLoss } from './clip-cov';
import { dppoLoss } from './dppo';
import { gmpoLoss } from './gmpo';
import { klCovLoss } from './kl-cov';
import type { PolicyLossDefinition } from './policy-loss-definition';
import { gspoLoss, ppoClipLoss } from './ppo-clip';
import { reinforceLoss } from './reinforce';
import { sapoLoss } from './sapo';
import { vespoLoss } from './vespo';

/** Every built-in policy loss, in documentation order. */
export const builtinPolicyLosses: readonly PolicyLossDefinition[] = [
  ppoClipLoss,
  gspoLoss,
  cispoLoss,
  sapoLoss,
  gmpoLoss,
  reinforceLoss,
  dppoLoss,
  clipCovLoss,
  klCovLoss,
  vespoLoss,
];

/** A fresh registry holding the built-in losses; register your own on it. */
export function createPolicyLossRegistry(): Registry<PolicyLossDefinition> {
  return createRegistry<PolicyLossDefinition>(
    'policy loss',
    builtinPolicyLosses.map((loss) => [loss.id, loss] as const),
  );
}

/** The default registry `policyLoss` looks names up in. */
export const policyLosses: Registry<PolicyLossDefinition> = /* @__PURE__ */ createPolicyLossRegistry();
