import { AipoError } from '@aipo/core';
import { PythonRandom } from './python-random';

interface ChoiceTexts {
  /** the correct option's text */
  correct: string;
  /** the distractors' texts (GPQA has three) */
  incorrect: readonly string[];
}

/** Seeded per item: an item keeps its order when the set is filtered, reordered or resumed. */
export interface PerItemShuffleOptions extends ChoiceTexts {
  /** run-level seed (record it with the results) */
  seed: number;
  /** the item's id, so each item (and each repeat, if folded into the id) gets its own order */
  itemId: string | number;
}

/** An explicit permutation, e.g. one of {@link simpleEvalsPermutations}: choices[i] = [correct, ...incorrect][permutation[i]]. */
export interface PermutationShuffleOptions extends ChoiceTexts {
  permutation: readonly number[];
}

export type ShuffleChoicesOptions = PerItemShuffleOptions | PermutationShuffleOptions;

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
  const { correct, incorrect } = options;
  if (typeof correct !== 'string' || !Array.isArray(incorrect) || incorrect.some((text) => typeof text !== 'string')) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'shuffleChoices needs a correct string and an array of incorrect strings' });
  }
  if (incorrect.length === 0 || incorrect.length + 1 > CHOICE_LETTERS.length) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `shuffleChoices needs 1 to ${CHOICE_LETTERS.length - 1} incorrect options, got ${incorrect.length}` });
  }
  const all = [correct, ...incorrect];
  const order = 'permutation' in options ? checkedPermutation(options.permutation, all.length) : perItemOrder(options);
  return {
    choices: order.map((index) => all[index] as string),
    goldLetter: CHOICE_LETTERS[order.indexOf(0)] as string,
  };
}

function checkedPermutation(permutation: readonly number[], size: number): number[] {
  const valid =
    Array.isArray(permutation) &&
    permutation.length === size &&
    new Set(permutation).size === size &&
    permutation.every((index) => Number.isInteger(index) && index >= 0 && index < size);
  if (!valid) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `permutation must order 0..${size - 1} exactly once, got ${JSON.stringify(permutation)}` });
  }
  return [...permutation];
}

function perItemOrder({ seed, itemId, incorrect }: PerItemShuffleOptions): number[] {
  if (!Number.isSafeInteger(seed)) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `shuffleChoices seed must be a safe integer, got ${String(seed)}` });
  if (typeof itemId !== 'string' && typeof itemId !== 'number') throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'shuffleChoices itemId must be a string or a number' });

  const random = mulberry32(hashString(`${seed}\u0000${String(itemId)}`));
  const order = [0, ...incorrect.map((_, index) => index + 1)];
  for (let index = order.length - 1; index > 0; index--) {
    const swap = Math.floor(random() * (index + 1));
    [order[index], order[swap]] = [order[swap] as number, order[index] as number];
  }
  return order;
}

export interface SimpleEvalsPermutationsOptions {
  /** `n_repeats` (simple-evals' GPQA default is 4); the examples are repeated before drawing */
  nRepeats?: number;
  /** `num_examples`: a subset drawn first with `rng.sample(examples, n)` from the same generator */
  numExamples?: number;
  /** the `random.Random` seed; simple-evals uses 0 */
  seed?: number;
}

/**
 * simple-evals' GPQA order, exactly (gpqa_eval.py: `rng = random.Random(0)`, an optional
 * `rng.sample(examples, num_examples)`, `examples * n_repeats`, then `rng.sample(range(4), 4)` per
 * example in order), on a port of CPython's generator. Positions matter here: the same item gets a
 * different order when the set is filtered, so use this mode to reproduce simple-evals' numbers
 * and the per-item mode of {@link shuffleChoices} otherwise. Pass each permutation to shuffleChoices.
 */
export function simpleEvalsPermutations<T>(
  examples: readonly T[],
  options: SimpleEvalsPermutationsOptions = {},
): Array<{ example: T; permutation: number[] }> {
  const { nRepeats = 1, numExamples, seed = 0 } = options;
  if (!Number.isInteger(nRepeats) || nRepeats < 1) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `nRepeats must be a positive integer, got ${nRepeats}` });
  }
  if (numExamples !== undefined && nRepeats !== 1) {
    // simple-evals asserts the same
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'numExamples needs nRepeats = 1 (as in simple-evals)' });
  }
  const rng = new PythonRandom(seed);
  const chosen = numExamples === undefined ? [...examples] : rng.sample(examples, numExamples);
  const repeated = Array.from({ length: nRepeats }, () => chosen).flat();
  return repeated.map((example) => ({ example, permutation: rng.sample([0, 1, 2, 3], 4) }));
}
