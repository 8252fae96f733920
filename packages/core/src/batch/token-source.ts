/**
 * Where a response token came from, stored per token in a `sourceMask` (Uint8Array, [B,T]).
 * - policy: sampled by the policy being trained (on-policy PPO/GRPO terms apply)
 * - offPolicy: part of an external solution trace mixed into the group (LUFFY, arXiv 2504.14945)
 * - agent: inserted by a consulting agent during an AIPO rollout (arXiv 2605.08401)
 */
export const TokenSource = {
  policy: 0,
  offPolicy: 1,
  agent: 2,
} as const;

export type TokenSourceId = (typeof TokenSource)[keyof typeof TokenSource];
