import { AipoError } from '@aipo/core';
import { type InteractionMode, irtInteractionMode } from './irt-rule';

/** A uniform source in [0,1); @aipo/core's `Rng` fits. */
export interface UniformSource {
  next(): number;
}

/**
 * How ILR's Dynamic Interaction picks cooperation or competition per question:
 * - `irt`: the IRT rule with each participant's ability (`decision: 'per-participant'`, default,
 *   uses each model's own P(q,i)) or the mean ability (`'joint'`, one mode for everyone); which
 *   one the paper uses is not published (algorithms.md §2.2);
 * - `fixed`: cooperate with a fixed probability (the paper's 0 / 0.5 / 1 ablation).
 */
export type InteractionSelectorOptions =
  | { kind: 'irt'; abilities: Record<string, number>; decision?: 'per-participant' | 'joint'; threshold?: number; scale?: number }
  | { kind: 'fixed'; cooperationProbability: number; rng: UniformSource };

/** Picks a mode per participant for one question. */
export interface InteractionSelector {
  /** modes by participant name */
  select(options: { difficulty: number; participants: readonly string[] }): Record<string, InteractionMode>;
}

export function createInteractionSelector(options: InteractionSelectorOptions): InteractionSelector {
  if (options.kind === 'fixed') {
    const { cooperationProbability: p, rng } = options;
    if (!(p >= 0 && p <= 1)) throw new AipoError({ code: 'INVALID_CONFIG', message: `cooperationProbability must be in [0, 1] (got ${p})` });
    return {
      select({ participants }) {
        // One draw per question: both participants share the mode, as in the ablation.
        const mode: InteractionMode = rng.next() < p ? 'cooperative' : 'competitive';
        return Object.fromEntries(participants.map((name) => [name, mode]));
      },
    };
  }
  const { abilities, decision = 'per-participant', threshold, scale } = options;
  const abilityOf = (name: string) => {
    const ability = abilities[name];
    if (ability === undefined) throw new AipoError({ code: 'INVALID_CONFIG', message: `no ability for participant "${name}"`, details: { known: Object.keys(abilities) } });
    return ability;
  };
  return {
    select({ difficulty, participants }) {
      const settings = { difficulty, ...(threshold !== undefined && { threshold }), ...(scale !== undefined && { scale }) };
      if (decision === 'joint') {
        const mean = participants.reduce((sum, name) => sum + abilityOf(name), 0) / Math.max(1, participants.length);
        const mode = irtInteractionMode({ ability: mean, ...settings });
        return Object.fromEntries(participants.map((name) => [name, mode]));
      }
      return Object.fromEntries(participants.map((name) => [name, irtInteractionMode({ ability: abilityOf(name), ...settings })]));
    },
  };
}
