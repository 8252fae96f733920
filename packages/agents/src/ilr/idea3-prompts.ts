import type { ChatMessage } from '../model/chat-model';
import type { InteractionMode } from '@aipo/core';

/** What a stage prompt can use. */
export interface Idea3PromptInput {
  /** the question */
  question: string;
  /** this participant's earlier outputs */
  own: { sharing?: string; analysis?: string };
  /** the other participants' earlier outputs */
  peers: Array<{ name: string; sharing?: string; analysis?: string }>;
}

/** One prompt builder per stage and mode. */
export type Idea3Prompts = Record<
  'sharing' | 'analysis' | 'fusion',
  Record<InteractionMode, (input: Idea3PromptInput) => ChatMessage[]>
>;

const FRAMING: Record<InteractionMode, string> = {
  cooperate: 'You are working together with other solvers; the goal is that the team reaches the correct answer.',
  compete:
    'You are competing with other solvers; the goal is to give a better answer than theirs and expose their flaws.',
};

const peerBlock = (peers: Idea3PromptInput['peers'], field: 'sharing' | 'analysis') =>
  peers.map((peer) => `[${peer.name}]\n${peer[field] ?? '(no answer)'}`).join('\n\n');

const stage = (mode: InteractionMode, task: string, body: string): ChatMessage[] => [
  { role: 'system', content: `${FRAMING[mode]} ${task}` },
  { role: 'user', content: body },
];

/**
 * Idea3 stage prompts (ILR, arXiv 2509.26306, algorithms.md §2.3). The paper's prompt texts are not
 * published; these follow the stage descriptions, and the mode changes only the framing
 * (cooperate toward a correct answer vs. beat the peer) [I].
 */
export const defaultIdea3Prompts: Idea3Prompts = {
  sharing: {
    cooperate: ({ question }) =>
      stage('cooperate', 'Solve the problem step by step and give the final answer in \\boxed{}.', question),
    compete: ({ question }) =>
      stage('compete', 'Solve the problem step by step and give the final answer in \\boxed{}.', question),
  },
  analysis: {
    cooperate: ({ question, peers }) =>
      stage(
        'cooperate',
        'Check the other solutions carefully and point out every error, so the team can fix them.',
        `Problem:\n${question}\n\nOther solutions:\n${peerBlock(peers, 'sharing')}`,
      ),
    compete: ({ question, peers }) =>
      stage(
        'compete',
        'Critically analyse the other solutions and expose every flaw.',
        `Problem:\n${question}\n\nOther solutions:\n${peerBlock(peers, 'sharing')}`,
      ),
  },
  fusion: {
    cooperate: (input) => fusion('cooperate', input),
    compete: (input) => fusion('compete', input),
  },
};

function fusion(mode: InteractionMode, { question, own, peers }: Idea3PromptInput): ChatMessage[] {
  return stage(
    mode,
    'Write your final solution, combining your own view with the analyses below, and give the final answer in \\boxed{}.',
    [
      `Problem:\n${question}`,
      `Your solution:\n${own.sharing ?? '(no answer)'}`,
      `Your analysis of the others:\n${own.analysis ?? '(none)'}`,
      `Other solutions:\n${peerBlock(peers, 'sharing')}`,
      `Their analyses:\n${peerBlock(peers, 'analysis')}`,
    ].join('\n\n'),
  );
}
