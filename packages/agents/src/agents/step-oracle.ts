import type { Agent, ConsultRequest } from '../aipo/agent';

/**
 * A programmatic Reasoning Agent: the next step comes from a function the task provides (for
 * example one that knows the reference solution of a synthetic problem and returns only its next
 * line, never the whole solution).
 */
export function createStepOracle(options: {
  nextStep: (request: ConsultRequest) => string | Promise<string>;
  name?: string;
  description?: string;
}): Agent {
  return {
    name: options.name ?? 'reasoning',
    description: options.description ?? 'gives the next step',
    async consult(request) {
      const text = await options.nextStep(request);
      return { text, fullText: text };
    },
  };
}
