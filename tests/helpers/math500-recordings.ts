import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MATH_BOXED_SUFFIX, sampleSeed } from '@aipo/bench';
import type { ScriptedReply, ScriptedRequest } from '@aipo/bench/test';

export const DATASETS = fileURLToPath(new URL('../../../shared/datasets', import.meta.url));

export interface MathRecord {
  problem: string;
  answer: string;
  unique_id: string;
}

export function readMath500(limit: number): MathRecord[] {
  return readFileSync(`${DATASETS}/math500/test.jsonl`, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, limit)
    .map((line) => JSON.parse(line) as MathRecord);
}

/** The recorded generation is right unless its per-sample seed is divisible by 3. */
export const isRight = (seed: number): boolean => seed % 3 !== 0;

/**
 * Recorded generations for MATH500: a short "solution" ending in the gold answer boxed, or a
 * deliberately wrong boxed number, chosen by the request's seed.
 */
export function math500Recordings(records: readonly MathRecord[]): (request: ScriptedRequest) => ScriptedReply {
  const byPrompt = new Map(records.map((record) => [`${record.problem}\n${MATH_BOXED_SUFFIX}`, record]));
  return ({ prompt, seed }) => {
    const record = byPrompt.get(prompt);
    if (record === undefined || seed === undefined) return { kind: 'status', status: 404, body: '{"error":{"message":"no recording for this prompt"}}' };
    const answer = isRight(seed) ? record.answer : '-987654321';
    return { kind: 'reply', content: `<think>Working it out.</think>\nSo the final answer is $\\boxed{${answer}}$.` };
  };
}

/** What a correct harness must report: correct samples per problem, from the seeds alone. */
export function expectedCorrect({ records, n, seed }: { records: readonly MathRecord[]; n: number; seed: number }): number[] {
  return records.map((record) => Array.from({ length: n }, (_, sampleIndex) => sampleSeed({ seed, itemId: record.unique_id, sampleIndex })).filter(isRight).length);
}

/** pass@1 as mean@n from per-problem correct counts. */
export function meanAtN(correct: readonly number[], n: number): number {
  return correct.reduce((sum, count) => sum + count / n, 0) / correct.length;
}
