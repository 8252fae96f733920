import { type Agent, createAgentRegistry, createArithmeticVerifier, createStepOracle, createTagSyntax, type TagSyntax } from '@aipo/agents';
import type { Registry } from '@aipo/core';
import { lookupArithmeticFact, nextArithmeticStep } from './arithmetic-oracles';

/**
 * AIPO's three roles for the embedded task, on the agents package's `Agent` interface:
 * - verify: the agents package's generic arithmetic verifier (`a op b = c` → correct / incorrect: a op b = v);
 * - knowledge: single-operation facts (`8-2` → `6`);
 * - reasoning: the next step of a chain (`8-2+7` → `8-2=6`), never the whole solution.
 */
export function createArithmeticAgents(): Registry<Agent> {
  const knowledge: Agent = {
    name: 'knowledge',
    description: 'states the value of one operation, e.g. 8-2',
    async consult({ query }) {
      const text = lookupArithmeticFact(query);
      return { text, fullText: text };
    },
  };
  return createAgentRegistry([
    createArithmeticVerifier({ name: 'verify' }),
    knowledge,
    createStepOracle({ name: 'reasoning', description: 'gives the next step of a chain, e.g. 8-2+7', nextStep: ({ query }) => nextArithmeticStep(query) }),
  ]);
}

/** One tag pair per agent (`<verify>…</verify>`): the shortest syntax for a character model. */
export function createArithmeticTagSyntax(): TagSyntax {
  return createTagSyntax({ kind: 'per-agent' });
}

/**
 * The training prompt with interaction on. A character model cannot read a system prompt, so a
 * fixed prefix marks the mode; evaluation uses the plain `problem.prompt` (interaction off).
 */
export const CONSULTATION_PROMPT_PREFIX = 'ask:';
