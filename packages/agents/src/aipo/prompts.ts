import type { ChatMessage } from '../model/chat-model';
import type { TagSyntax } from './tag-syntax';

/** Agent names and descriptions the training prompt lists. */
export interface PromptAgent {
  /** tag / field name */
  name: string;
  /** one line about what the agent does */
  description: string;
}

/**
 * The training prompt (interaction on). Paraphrases the AIPO prototype's system prompt
 * (algorithms.md §1.3): decompose step by step; ask at most `maxConsultations` self-contained
 * questions in tags; wait for the result block; never invent results; box the final answer.
 */
export function buildTrainingMessages(options: {
  question: string;
  agents: readonly PromptAgent[];
  syntax: TagSyntax;
  maxConsultations: number;
  resultTags?: [string, string];
}): ChatMessage[] {
  const { question, agents, syntax, maxConsultations } = options;
  const [resultOpen, resultClose] = options.resultTags ?? ['<result>', '</result>'];
  const names = agents.map((agent) => agent.name);
  const system = [
    'Solve the problem step by step. Break it into small sub-problems.',
    `When you are stuck, you may ask up to ${maxConsultations} self-contained questions to external agents:`,
    ...agents.map((agent) => `- ${agent.name}: ${agent.description}`),
    syntax.describe(names),
    `After a question, stop and wait: the answer appears as ${resultOpen}…${resultClose}. Never write a ${resultOpen} block yourself and never invent results.`,
    'Give the final answer in \\boxed{}.',
  ].join('\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: question },
  ];
}

/** The evaluation prompt (interaction off): the prototype's plain "step by step, box the answer". */
export function buildEvaluationMessages(options: { question: string }): ChatMessage[] {
  return [
    { role: 'system', content: 'Solve the problem step by step and give the final answer in \\boxed{}.' },
    { role: 'user', content: options.question },
  ];
}
