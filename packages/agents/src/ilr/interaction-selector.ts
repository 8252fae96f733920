import { AipoError, chooseInteraction, type InteractionMode, type Rng } from '@aipo/core';

/**
 * How ILR's Dynamic Interaction picks cooperation or competition for one question, using
 * @aipo/core's `chooseInteraction` (the IRT rule, arXiv 2509.26306, algorithms.md §2.2):
 * - `irt` with `decision: 'per-participant'` (default): each model uses its own P(q,i), so two
 *   models may frame the same question differently; `'joint'`: one mode from the mean ability.
 *   Which the paper does is not published;
 * - `fixed`: cooperate with a fixed probability, one draw per question shared by everyone (the
 *   paper's 0 / 0.5 / 1 ablation).
 */
export type InteractionSelectorOptions =
  | {
      kind: 'irt';
      abilities: Record<string, number>;
      decision?: 'per-participant' | 'joint';
      threshold?: number;
      scale?: number;
    }
  | { kind: 'fixed'; cooperationProbability: number; rng?: Rng };

/** Picks a mode per participant for one question. */
export interface InteractionSelector {
  /** modes by participant name, for a question of the given difficulty */
  select(options: { difficulty: number; participants: readonly string[] }): Record<string, InteractionMode>;
}

export function createInteractionSelector(options: InteractionSelectorOptions): InteractionSelector {
  if (options.kind === 'fixed') {
    const { cooperationProbability, rng } = options;
    // validate once, up front, through core's own checks
    chooseInteraction({ ability: 0, difficulty: 0, cooperationProbability, ...(rng && { rng: rng.clone() }) });
    return {
      select({ participants }) {
        const { mode } = chooseInteraction({ ability: 0, difficulty: 0, cooperationProbability, ...(rng && { rng }) });
        return Object.fromEntries(participants.map((name) => [name, mode]));
      },
    };
  }
  const { abilities, decision = 'per-participant', threshold, scale } = options;
  const abilityOf = (name: string) => {
    const ability = abilities[name];
    if (ability === undefined) {
      throw new AipoError({
        code: 'INVALID_CONFIG',
        message: `no ability for participant "${name}"`,
        details: { known: Object.keys(abilities) },
      });
    }
    return ability;
  };
  const settings = { ...(threshold !== undefined && { threshold }), ...(scale !== undefined && { scale }) };
  return {
    select({ difficulty, participants }) {
      if (decision === 'joint') {
        const mean = participants.reduce((sum, name) => sum + abilityOf(name), 0) / Math.max(1, participants.length);
        const { mode } = chooseInteraction({ ability: mean, difficulty, ...settings });
        return Object.fromEntries(participants.map((name) => [name, mode]));
      }
      return Object.fromEntries(
        participants.map((name) => [
          name,
          chooseInteraction({ ability: abilityOf(name), difficulty, ...settings }).mode,
        ]),
      );
    },
  };
}
