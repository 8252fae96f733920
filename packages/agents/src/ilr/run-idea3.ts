import { AipoError, toAipoError } from '@aipo/core';
import type { ChatGenerateOptions, ChatMessage, ChatModel, ChatUsage } from '../model/chat-model';
import type { Transcript } from '../model/jsonl-transcript';
import { defaultIdea3Prompts, type Idea3Prompts } from './idea3-prompts';
import type { InteractionMode } from '@aipo/core';

/** Idea3's three stages, in order. */
export type Idea3Stage = 'sharing' | 'analysis' | 'fusion';
export const IDEA3_STAGES: readonly Idea3Stage[] = ['sharing', 'analysis', 'fusion'];

/** One co-trained LLM. */
export interface Idea3Participant {
  /** unique name (used in prompts and transcripts) */
  name: string;
  /** its model (a local policy via `createLocalChatModel`, or an endpoint) */
  model: ChatModel;
}

/** One participant's turn in one stage. */
export interface Idea3Turn {
  /** who */
  participant: string;
  /** which stage */
  stage: Idea3Stage;
  /** the framing used */
  mode: InteractionMode;
  /** the prompt sent */
  messages: ChatMessage[];
  /** the reply ('' when the call failed) */
  reply: string;
  /** whether this turn's reply is a training target */
  trained: boolean;
  /** token counts, when the call succeeded */
  usage?: ChatUsage;
  /** the failure, when the call failed (the interaction goes on without this reply) */
  error?: { code: string; message: string };
}

/** Settings for {@link runIdea3}. */
export interface Idea3Options {
  /** the question */
  question: string;
  /** N ≥ 2 participants (the paper's main setting is 2) */
  participants: readonly Idea3Participant[];
  /** one mode for all, or per participant (from the Dynamic Interaction selector) */
  modes: InteractionMode | Record<string, InteractionMode>;
  /** stage prompts (default {@link defaultIdea3Prompts}) */
  prompts?: Idea3Prompts;
  /** which stages are training targets (default ['fusion']; the paper leaves it open, algorithms.md §2.4) */
  trainedStages?: readonly Idea3Stage[];
  /** decoding for every turn */
  decoding?: ChatGenerateOptions;
  /** every turn is appended here */
  transcript?: Transcript;
  /** cancels the interaction */
  signal?: AbortSignal;
}

/**
 * ILR's Idea3 interaction (arXiv 2509.26306, algorithms.md §2.3): Idea Sharing (each answers
 * alone), Idea Analysis (each critiques the others' solutions), Idea Fusion (each writes its
 * refined final answer). Participants act in parallel within a stage.
 */
export async function runIdea3(
  options: Idea3Options,
): Promise<{ turns: Idea3Turn[]; finalAnswers: Record<string, string> }> {
  const {
    question,
    participants,
    prompts = defaultIdea3Prompts,
    trainedStages = ['fusion'],
    decoding = {},
    transcript,
    signal,
  } = options;
  const names = participants.map((participant) => participant.name);
  if (participants.length < 2 || new Set(names).size !== names.length) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `Idea3 needs at least 2 participants with distinct names (got ${names.join(', ') || 'none'})`,
    });
  }
  const modeOf = (name: string): InteractionMode => {
    const mode = typeof options.modes === 'string' ? options.modes : options.modes[name];
    if (mode === undefined)
      throw new AipoError({ code: 'INVALID_ARGUMENT', message: `no interaction mode for participant "${name}"` });
    return mode;
  };
  const outputs = new Map<string, { sharing?: string; analysis?: string }>(names.map((name) => [name, {}]));
  const turns: Idea3Turn[] = [];
  for (const stage of IDEA3_STAGES) {
    const stageTurns = await Promise.all(
      participants.map(async ({ name, model }): Promise<Idea3Turn> => {
        const mode = modeOf(name);
        const messages = prompts[stage][mode]({
          question,
          own: { ...outputs.get(name) },
          peers: names.filter((peer) => peer !== name).map((peer) => ({ name: peer, ...outputs.get(peer) })),
        });
        const base = { participant: name, stage, mode, messages, trained: trainedStages.includes(stage) };
        try {
          const result = await model.generate(messages, decoding, signal);
          return { ...base, reply: result.text, usage: result.usage };
        } catch (error) {
          if (signal?.aborted) throw toAipoError(error, 'ABORTED');
          const { code, message } = toAipoError(error);
          return { ...base, reply: '', error: { code, message } };
        }
      }),
    );
    for (const turn of stageTurns) {
      if (stage !== 'fusion') {
        const output = outputs.get(turn.participant) ?? {};
        output[stage] = turn.error ? undefined : turn.reply;
        outputs.set(turn.participant, output);
      }
      turns.push(turn);
      await transcript?.write({ kind: 'idea3', question, ...turn });
    }
  }
  const finalAnswers = Object.fromEntries(
    turns.filter((turn) => turn.stage === 'fusion').map((turn) => [turn.participant, turn.reply]),
  );
  return { turns, finalAnswers };
}
