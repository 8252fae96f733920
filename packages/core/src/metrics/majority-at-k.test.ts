import { describe, expect, it } from 'vitest';
import { consensusAtK, createRng, defaultAnswerKey, majorityAtK, majorityVote, type VotedSample } from '../index';

const sample = <A>(answer: A, score: number): VotedSample<A> => ({ answer, score });

describe('majorityVote', () => {
  it('breaks ties by the first-seen answer and ignores abstentions', () => {
    expect(majorityVote(['a', 'b', 'b', 'a'])).toEqual({ key: 'a', index: 0, count: 2 });
    expect(majorityVote(['b', 'a', 'a', 'b', 'c'])).toEqual({ key: 'b', index: 0, count: 2 });
    expect(majorityVote(['c', 'a', 'b', 'a'])).toEqual({ key: 'a', index: 1, count: 2 });
    expect(majorityVote([null, null, 'x'])).toEqual({ key: 'x', index: 2, count: 1 });
    expect(majorityVote([null, undefined])).toEqual({ key: undefined, index: -1, count: 0 });
  });

  it('groups structured answers by a canonical key, or by a custom key', () => {
    expect(defaultAnswerKey({ value: 1, unit: 'm' })).toBe(defaultAnswerKey({ unit: 'm', value: 1 }));
    expect(majorityVote([{ v: 2 }, { v: 1, u: 'x' }, { u: 'x', v: 1 }]).index).toBe(1);
    expect(majorityVote(['A', 'b', 'B'], (answer) => answer.toLowerCase())).toEqual({ key: 'b', index: 1, count: 2 });
  });
});

describe('consensusAtK (exact over k-subsets)', () => {
  const samples = [sample('x', 1), sample('y', 0), sample('y', 0)];

  it('matches hand-computed values, including ties won by the earlier answer', () => {
    expect(consensusAtK({ samples, k: 1 })).toBeCloseTo(1 / 3, 15);
    // {0,1} and {0,2} tie 1–1 and x (generated first) wins; {1,2} is y
    expect(consensusAtK({ samples, k: 2 })).toBeCloseTo(2 / 3, 15);
    expect(consensusAtK({ samples, k: 3 })).toBe(0);
    // a later tie loses: y first, then x
    expect(consensusAtK({ samples: [sample('y', 0), sample('x', 1)], k: 2 })).toBe(0);
  });

  /** Independent reference: enumerate every k-subset and vote with `majorityVote`. */
  function bruteForce(pool: VotedSample<string | null>[], k: number): number {
    let sum = 0;
    let total = 0;
    const visit = (start: number, chosen: number[]): void => {
      if (chosen.length === k) {
        const vote = majorityVote(chosen.map((index) => pool[index]!.answer));
        sum += vote.index < 0 ? 0 : pool[chosen[vote.index]!]!.score;
        total++;
        return;
      }
      for (let i = start; i < pool.length; i++) visit(i + 1, [...chosen, i]);
    };
    visit(0, []);
    return sum / total;
  }

  it('agrees with brute-force enumeration of every subset (random pools up to n = 12, abstentions, real scores)', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 12; trial++) {
      const n = 4 + (trial % 9);
      const answers = ['p', 'q', 'r', 's', null].slice(0, 2 + (trial % 4));
      const pool = Array.from({ length: n }, () => sample(answers[Math.floor(rng.next() * answers.length)] ?? null, trial % 2 === 0 ? (rng.next() < 0.5 ? 1 : 0) : rng.next()));
      for (let k = 1; k <= n; k++) expect(consensusAtK({ samples: pool, k }), `n=${n} k=${k}`).toBeCloseTo(bruteForce(pool, k), 12);
    }
  });

  it('stays exact and fast where enumeration is impossible (n = 64, k = 32: 1.8e18 subsets)', () => {
    // 40 votes for the right answer, 24 spread over wrong ones: the right answer almost always wins
    const pool = Array.from({ length: 64 }, (_, index) => (index % 8 < 5 ? sample('right', 1) : sample(`wrong${index % 3}`, 0)));
    const value = consensusAtK({ samples: pool, k: 32 });
    expect(value).toBeGreaterThan(0.999);
    expect(value).toBeLessThanOrEqual(1);
    // a 32–32 split: ties go to the answer generated first, so the order decides
    const split = Array.from({ length: 64 }, (_, index) => sample(index % 2 === 0 ? 'a' : 'b', index % 2 === 0 ? 1 : 0));
    const half = consensusAtK({ samples: split, k: 64 });
    expect(half).toBe(1);
  });

  it('rejects k > n, k < 1 and non-finite scores with codes', () => {
    expect(() => consensusAtK({ samples, k: 4 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => consensusAtK({ samples, k: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => consensusAtK({ samples: [sample('a', Number.NaN)], k: 1 })).toThrow(expect.objectContaining({ code: 'NON_FINITE_INPUT' }));
    expect(consensusAtK({ samples: [sample(null, 1), sample(undefined, 1)], k: 2 })).toBe(0);
  });
});

describe('majorityAtK (verl bootstrap, with replacement)', () => {
  const samples = [sample('a', 1), sample('b', 0), sample('b', 0)];

  it('converges to the closed-form with-replacement values', () => {
    const rng = createRng(42);
    // k = 1: P(draw the correct one) = 1/3
    expect(majorityAtK({ samples, k: 1, rng, resamples: 20_000 }).mean).toBeCloseTo(1 / 3, 1.5);
    // k = 2: of the 9 ordered pairs only (0,0), (0,1), (0,2) vote a (ties go to the first draw)
    expect(majorityAtK({ samples, k: 2, rng, resamples: 20_000 }).mean).toBeCloseTo(3 / 9, 1.5);
    // k = 3: a needs >= 2 of 3 draws: 3·(1/3)²·(2/3) + (1/3)³ = 7/27
    const three = majorityAtK({ samples, k: 3, rng, resamples: 20_000 });
    expect(three.mean).toBeCloseTo(7 / 27, 1.5);
    expect(three.std).toBeCloseTo(Math.sqrt((7 / 27) * (20 / 27)), 1.5);
  });

  it('is reproducible from the seed', () => {
    const a = majorityAtK({ samples, k: 2, rng: createRng(9), resamples: 100 });
    const b = majorityAtK({ samples, k: 2, rng: createRng(9), resamples: 100 });
    expect(a).toEqual(b);
  });
});
