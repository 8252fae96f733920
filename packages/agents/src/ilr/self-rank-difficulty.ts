import { toAipoError } from '@aipo/core';
import type { ChatGenerateOptions, ChatMessage, ChatModel } from '../model/chat-model';
import { difficultyFromPercentile } from './log-odds-scale';

/** Default self-ranking prompt: order a numbered list of questions from easiest to hardest. */
export function defaultRankingPrompt(questions: readonly string[]): ChatMessage[] {
  return [
    {
      role: 'system',
      content:
        'You judge how hard problems are. Order the numbered problems from easiest to hardest. Answer with the numbers only, comma-separated, e.g. "3, 1, 2".',
    },
    { role: 'user', content: questions.map((question, index) => `${index + 1}. ${question}`).join('\n\n') },
  ];
}

/**
 * Parse "3, 1, 2" (easiest first) into a hardness percentile per question: the midpoint
 * (position + 0.5) / n of its rank, so no question lands on the extremes 0 or 1 (whose logits
 * would be ±∞). Returns undefined unless the reply ends with a permutation of 1..n.
 */
export function parseRanking(reply: string, count: number): number[] | undefined {
  const numbers = (reply.match(/\d{1,6}/g) ?? []).map(Number);
  const order = numbers.slice(-count);
  if (order.length !== count || new Set(order).size !== count || order.some((value) => value < 1 || value > count))
    return undefined;
  const percentiles = new Array<number>(count).fill(0);
  order.forEach((question, position) => {
    percentiles[question - 1] = (position + 0.5) / count;
  });
  return percentiles;
}

/** How per-model difficulties of one question are combined. */
export type DifficultyAggregation = 'mean' | 'median' | 'max' | ((values: number[]) => number);

/** Settings for {@link estimateDifficultyBySelfRanking}. */
export interface SelfRankingOptions {
  /** the questions to rate */
  questions: readonly string[];
  /** the participants doing the ranking (ILR: the co-trained LLMs themselves) */
  models: readonly ChatModel[];
  /** questions per ranking call (default 8) */
  chunkSize?: number;
  /** prompt for one chunk (default {@link defaultRankingPrompt}) */
  prompt?: (questions: readonly string[]) => ChatMessage[];
  /** reply → hardness percentile per question in [0,1], or undefined when unparsable (default {@link parseRanking}) */
  parse?: (reply: string, count: number) => number[] | undefined;
  /** combine the models' difficulties (default mean) */
  aggregate?: DifficultyAggregation;
  /** decoding for the ranking calls (default temperature 0, so calls are cacheable) */
  decoding?: ChatGenerateOptions;
  /** cancels the calls */
  signal?: AbortSignal;
}

/**
 * ILR's difficulty estimate D_q by self-ranking (arXiv 2509.26306, algorithms.md §2.2; the prompt
 * and aggregation are not published, so both are configurable). Each model ranks chunks of
 * questions; ranks become logit-scale difficulties ({@link difficultyFromPercentile}) and are
 * aggregated over models. A question no model ranked gets difficulty 0 (the median) and is listed
 * in `failures`.
 */
export async function estimateDifficultyBySelfRanking(options: SelfRankingOptions): Promise<{
  difficulties: number[];
  failures: Array<{ modelId: string; questionIndices: number[]; reason: string }>;
}> {
  const {
    questions,
    models,
    chunkSize = 8,
    prompt = defaultRankingPrompt,
    parse = parseRanking,
    aggregate = 'mean',
    decoding = { temperature: 0 },
  } = options;
  const perQuestion: number[][] = questions.map(() => []);
  const failures: Array<{ modelId: string; questionIndices: number[]; reason: string }> = [];
  const chunks: number[][] = [];
  for (let start = 0; start < questions.length; start += Math.max(1, chunkSize)) {
    chunks.push(questions.slice(start, start + Math.max(1, chunkSize)).map((_, offset) => start + offset));
  }
  await Promise.all(
    models.flatMap((model) =>
      chunks.map(async (indices) => {
        try {
          const reply = await model.generate(
            prompt(indices.map((index) => questions[index] as string)),
            decoding,
            options.signal,
          );
          const percentiles = parse(reply.text, indices.length);
          if (percentiles === undefined) {
            failures.push({
              modelId: model.modelId,
              questionIndices: indices,
              reason: `unparsable ranking: ${reply.text.slice(0, 200)}`,
            });
            return;
          }
          indices.forEach((index, offset) => {
            perQuestion[index]?.push(difficultyFromPercentile(percentiles[offset] as number));
          });
        } catch (error) {
          if (options.signal?.aborted) throw error;
          failures.push({ modelId: model.modelId, questionIndices: indices, reason: toAipoError(error).message });
        }
      }),
    ),
  );
  return {
    difficulties: perQuestion.map((values) => (values.length === 0 ? 0 : combine(values, aggregate))),
    failures,
  };
}

function combine(values: number[], aggregate: DifficultyAggregation): number {
  if (typeof aggregate === 'function') return aggregate(values);
  if (aggregate === 'max') return Math.max(...values);
  if (aggregate === 'mean') return values.reduce((sum, value) => sum + value, 0) / values.length;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
