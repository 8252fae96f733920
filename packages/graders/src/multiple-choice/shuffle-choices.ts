import { AipoError } from '@aipo/core';

export interface ShuffleChoicesOptions {
  /** the correct option's text */
  correct: string;
  /** the distractors' texts (GPQA has three) */
  incorrect: readonly string[];
  /** run-level seed (record it with the results) */
  seed: number;
  /** the item's id, so each item (and each repeat, if folded into the id) gets its own order */
  itemId: string | number;
}

export interface ShuffledChoices {
  /** option texts in display order: choices[0] is shown as A */
  choices: string[];
  /** the letter the correct option landed on */
  goldLetter: string;
}

export const CHOICE_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** cyrb53-style 32-bit string hash: stable across platforms and Node versions. */
function hashString(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    h1 = Math.imul(h1 ^ char, 2654435761);
    h2 = Math.imul(h2 ^ char, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  return h1 >>> 0;
}

/** mulberry32: a tiny seeded PRNG, enough for a permutation of a handful of options. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Seeded, per-item permutation of [correct, ...incorrect] (eval.md §2.6 GPQA: simple-evals draws
 * `rng.sample(range(4), 4)` per example from one `Random(0)`, so its order depends on the item's
 * position; keying on (seed, itemId) keeps an item's order stable when the set is filtered or resumed).
 */
export function shuffleChoices(options: ShuffleChoicesOptions): ShuffledChoices {
  const { correct, incorrect, seed, itemId } = options;
  if (typeof correct !== 'string' || !Array.isArray(incorrect) || incorrect.some((text) => typeof text !== 'string')) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'shuffleChoices needs a correct string and an array of incorrect strings' });
  }
  if (incorrect.length === 0 || incorrect.length + 1 > CHOICE_LETTERS.length) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `shuffleChoices needs 1 to ${CHOICE_LETTERS.length - 1} incorrect options, got ${incorrect.length}` });
  }
  if (!Number.isSafeInteger(seed)) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `shuffleChoices seed must be a safe integer, got ${String(seed)}` });
  if (typeof itemId !== 'string' && typeof itemId !== 'number') throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'shuffleChoices itemId must be a string or a number' });

  const random = mulberry32(hashString(`${seed}\u0000${String(itemId)}`));
  const order = [0, ...incorrect.map((_, index) => index + 1)];
  for (let index = order.length - 1; index > 0; index--) {
    const swap = Math.floor(random() * (index + 1));
    [order[index], order[swap]] = [order[swap] as number, order[index] as number];
  }
  const all = [correct, ...incorrect];
  return {
    choices: order.map((index) => all[index] as string),
    goldLetter: CHOICE_LETTERS[order.indexOf(0)] as string,
  };
}
