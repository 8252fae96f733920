import type { ChatGenerateOptions, ChatMessage } from '../model/chat-model';
import type { ConsultRequest } from './agent';
import type { ReplyExtraction } from './extract-reply';

/** A role definition: everything about an agent except its backend. */
export interface AgentRole {
  /** tag / field name the policy uses */
  name: string;
  /** one line for the policy's training prompt */
  description: string;
  /** request → messages for the backend */
  prompt: (request: ConsultRequest) => ChatMessage[];
  /** decoding settings for the backend */
  decoding: ChatGenerateOptions;
  /** what of the reply is inserted */
  extraction: ReplyExtraction;
}

/**
 * Decoding of the prototype's helper (`Qwen3-30B-A3B-Instruct-2507` at T=0.7, top-p 0.8, up to 16k
 * tokens; algorithms.md §1.3). The paper's agent settings are unknown.
 */
export const PROTOTYPE_AGENT_DECODING: ChatGenerateOptions = { temperature: 0.7, topP: 0.8, maxTokens: 16_384 };

/** The prototype appends this to the request it forwards to its helper (algorithms.md §1.3). */
const BOX_INSTRUCTION = 'Put your final answer in \\boxed{}.';

/** Verify Agent: checks a claim or candidate answer; returns a verdict plus the error, if any. */
export const verifyRole: AgentRole = {
  name: 'verify',
  description: 'checks a claim or a candidate answer and says whether it is correct, and if not, what is wrong',
  prompt: ({ query }) => [
    {
      role: 'system',
      content:
        'You check claims. Reply with "Verdict: correct" or "Verdict: incorrect". If incorrect, add one line "Error: <what is wrong>". Do not solve anything else.',
    },
    { role: 'user', content: query },
  ],
  decoding: PROTOTYPE_AGENT_DECODING,
  extraction: 'verdict',
};

/** Knowledge Agent: supplies a definition, theorem, formula or fact. */
export const knowledgeRole: AgentRole = {
  name: 'knowledge',
  description: 'states a definition, theorem, formula or fact',
  prompt: ({ query }) => [
    { role: 'system', content: 'You state definitions, theorems, formulas and facts precisely and briefly.' },
    { role: 'user', content: `${query}\n\n${BOX_INSTRUCTION}` },
  ],
  decoding: PROTOTYPE_AGENT_DECODING,
  extraction: 'boxed',
};

/** Reasoning Agent: a hint or the next step for a stuck sub-problem, never the full solution. */
export const reasoningRole: AgentRole = {
  name: 'reasoning',
  description: 'gives a hint or the next step for a sub-problem (never the full solution)',
  prompt: ({ query }) => [
    {
      role: 'system',
      content:
        'You give a hint or the single next step for the sub-problem you are asked about. Never give the full solution or the final answer.',
    },
    { role: 'user', content: `${query}\n\n${BOX_INSTRUCTION}` },
  ],
  decoding: PROTOTYPE_AGENT_DECODING,
  extraction: 'boxed',
};
