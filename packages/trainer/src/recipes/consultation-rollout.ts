import { type Registry, type Rng, TokenSource, toAipoError } from '@aipo/core';
import { type Agent, defaultErrorMessages, type TagSyntax } from '@aipo/agents';
import type { RecipeProblem } from '../tasks/recipe-problem';
import type { RecipePolicy } from './recipe-policy';
import type { Trajectory } from './trajectory';

export interface ConsultationRolloutOptions {
  /** the policy that samples */
  policy: RecipePolicy;
  /** one group per problem */
  problems: readonly RecipeProblem[];
  /** training prompt (interaction on) per problem */
  trainingPrompt: (problem: RecipeProblem) => string;
  /** rollouts per group */
  rolloutsPerGroup: number;
  /** consulting agents by name */
  agents: Registry<Agent>;
  /** how requests and results are written */
  syntax: TagSyntax;
  /** consultations per rollout (prototype max_turns = 3); further requests get the budget error */
  maxConsultations: number;
  /** cap on policy-sampled tokens per rollout (inserted tokens do not count) */
  maxTokens: number;
  /** rollout temperature */
  temperature: number;
  /** the step's randomness */
  rng: Rng;
  /** cancels between sampling rounds */
  signal?: AbortSignal;
}

/** Key under which `Trajectory.consultations` counts refused requests (over budget or malformed). */
export const REFUSED = 'refused';

/** Time spent inside agents, for the consultation-overhead benchmark. */
export interface ConsultationTiming {
  /** milliseconds inside `agent.consult` */
  agentMs: number;
}

interface Slot {
  trajectory: Trajectory;
  pendingText: string;
  policyTokens: number;
  consultations: number;
}

/**
 * AIPO rollouts (arXiv 2605.08401) for a whole batch at once: every active rollout samples until
 * it closes a request tag, ends, or runs out of tokens; closed requests go to their agent, the
 * reply is inserted in result tags as agent tokens (TokenSource.agent, no π_old), and those
 * rollouts continue in the next round. The mechanics (stop at the closing tag, insert the reply,
 * budget and error texts) are the agents package's protocol (`AipoRollout`, algorithms.md §1.3);
 * this loop batches the policy calls across rollouts, which a per-sequence state machine cannot.
 */
export async function sampleConsultationGroups(options: ConsultationRolloutOptions, timing?: ConsultationTiming): Promise<Trajectory[]> {
  const { policy, problems, trainingPrompt, rolloutsPerGroup, agents, syntax, maxConsultations, maxTokens, temperature, rng, signal } = options;
  const names = agents.list();
  const stop = syntax.stopStrings(names);
  const slots: Slot[] = problems.flatMap((problem, group) =>
    Array.from({ length: rolloutsPerGroup }, () => ({
      trajectory: {
        problem,
        group,
        prompt: policy.encode(trainingPrompt(problem)),
        response: [],
        sources: [],
        oldLogProbs: [],
        text: '',
        reward: 0,
        finishReason: 'length' as const,
        consultations: {},
      },
      pendingText: '',
      policyTokens: 0,
      consultations: 0,
    })),
  );
  let active = slots;
  while (active.length > 0) {
    signal?.throwIfAborted();
    const budget = Math.max(...active.map((slot) => maxTokens - slot.policyTokens));
    const samples = await policy.sample({
      contexts: active.map((slot) => [...slot.trajectory.prompt, ...slot.trajectory.response]),
      maxTokens: budget,
      temperature,
      stop,
      rng,
    });
    const next: Slot[] = [];
    for (const [index, sample] of samples.entries()) {
      const slot = active[index] as Slot;
      const { trajectory } = slot;
      const room = maxTokens - slot.policyTokens;
      const tokens = sample.tokenIds.slice(0, room);
      const truncated = tokens.length < sample.tokenIds.length;
      trajectory.response.push(...tokens);
      trajectory.sources.push(...tokens.map(() => TokenSource.policy));
      trajectory.oldLogProbs.push(...sample.logProbs.slice(0, room));
      slot.policyTokens += tokens.length;
      const text = truncated ? policy.decode(tokens) : sample.text;
      trajectory.text += text;
      slot.pendingText += text;
      if (truncated || sample.stop === undefined) {
        trajectory.finishReason = truncated ? 'length' : sample.finishReason;
        continue;
      }
      const reply = await consult({ slot, agents, names, syntax, maxConsultations, timing, signal });
      const inserted = encodeReply(policy, syntax.formatResult(reply));
      trajectory.response.push(...inserted);
      trajectory.sources.push(...inserted.map(() => TokenSource.agent));
      trajectory.oldLogProbs.push(...inserted.map(() => Number.NaN));
      trajectory.text += policy.decode(inserted);
      slot.pendingText = '';
      if (slot.policyTokens < maxTokens) next.push(slot);
    }
    active = next;
  }
  return slots.map((slot) => slot.trajectory);
}

async function consult(options: {
  slot: Slot;
  agents: Registry<Agent>;
  names: string[];
  syntax: TagSyntax;
  maxConsultations: number;
  timing: ConsultationTiming | undefined;
  signal: AbortSignal | undefined;
}): Promise<string> {
  const { slot, agents, names, syntax, maxConsultations, timing, signal } = options;
  const counts = slot.trajectory.consultations;
  // refused requests (over budget, malformed) still insert an error text; count them apart
  const refuse = (text: string) => {
    counts[REFUSED] = (counts[REFUSED] ?? 0) + 1;
    return text;
  };
  if (slot.consultations >= maxConsultations) return refuse(defaultErrorMessages.budgetExceeded(maxConsultations));
  const request = syntax.parseClosed(slot.pendingText, names);
  if (!request.ok) return refuse(defaultErrorMessages.malformed(request));
  slot.consultations += 1;
  counts[request.agent] = (counts[request.agent] ?? 0) + 1;
  const started = performance.now();
  try {
    const reply = await agents.get(request.agent).consult({ query: request.query, question: slot.trajectory.problem.expression }, signal);
    return reply.text;
  } catch (error) {
    const typed = toAipoError(error);
    return defaultErrorMessages.agentFailed({ agent: request.agent, code: typed.code, message: typed.message });
  } finally {
    if (timing) timing.agentMs += performance.now() - started;
  }
}

/**
 * Insert the reply verbatim when the tokenizer can encode it (a HF tokenizer encodes anything);
 * the demo's character vocabulary lacks characters agents may write (−, …), so map those to ASCII.
 */
function encodeReply(policy: RecipePolicy, text: string): number[] {
  try {
    return policy.encode(text);
  } catch {
    return policy.encode(toVocabulary(text));
  }
}

function toVocabulary(text: string): string {
  return text.replace(/−/g, '-').replace(/…/g, '...').replace(/[^\n\x20-\x7e]/g, '?');
}
