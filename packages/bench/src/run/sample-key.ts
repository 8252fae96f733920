import { createHash } from 'node:crypto';
import type { ChatMessage } from '../benchmark';
import type { SamplingSettings } from './create-sampler';

/**
 * The per-sample seed, derived from (run seed, item id, sample index) as reliability.md §3
 * recommends, so sample j of an item gets the same seed on every run and on resume.
 */
export function sampleSeed({ seed, itemId, sampleIndex }: { seed: number; itemId: string; sampleIndex: number }): number {
  return createHash('sha256').update(JSON.stringify([seed, itemId, sampleIndex])).digest().readUInt32BE(0) >>> 1;
}

/**
 * The cache key of one sample: model, prompt, sampling settings, seed and sample index. Including
 * the index avoids promptfoo's bug where repeats collide in the cache (#360, #1431).
 */
export function sampleKey(parts: { model: string; messages: ChatMessage[]; sampling: SamplingSettings; seed: number; sampleIndex: number }): string {
  return createHash('sha256')
    .update(JSON.stringify([parts.model, parts.messages, parts.sampling, parts.seed, parts.sampleIndex]))
    .digest('hex')
    .slice(0, 32);
}
