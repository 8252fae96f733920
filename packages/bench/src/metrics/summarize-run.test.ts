import { describe, expect, it } from 'vitest';
import type { BenchItem } from '../benchmark';
import type { SampleVerdict } from '../run/sample-verdict';
import { percentiles } from './percentiles';
import { summarizeRun } from './summarize-run';

const items: BenchItem[] = [
  { id: 'a', variables: {}, reference: '1', tags: { level: '1' } },
  { id: 'b', variables: {}, reference: '2', tags: { level: '2' } },
];

function verdict(itemId: string, sampleIndex: number, pass: boolean, answer: string, tokens = 10): SampleVerdict {
  return { itemId, sampleIndex, status: 'ok', pass, score: pass ? 1 : 0, parseFailed: false, answer, completionTokens: tokens, promptTokens: 5, latencyMs: 100 + sampleIndex, finishReason: 'stop', outputChars: 40 };
}

describe('summarizeRun', () => {
  it('computes mean@n, unbiased pass@k and maj@k by hand', () => {
    // a: 1 of 4 correct; b: 3 of 4 correct.
    const verdicts = [
      verdict('a', 0, false, '7'), verdict('a', 1, true, '1'), verdict('a', 2, false, '7'), verdict('a', 3, false, '8'),
      verdict('b', 0, true, '2'), verdict('b', 1, true, '2'), verdict('b', 2, false, '9'), verdict('b', 3, true, '2'),
    ];
    const summary = summarizeRun({ benchmark: 't', model: 'm', n: 4, items, verdicts, breakdowns: ['level'] });
    expect(summary.pass1.value).toBeCloseTo((0.25 + 0.75) / 2, 12);
    expect(summary.pass1.low).toBeLessThanOrEqual(summary.pass1.value);
    expect(summary.pass1.high).toBeGreaterThanOrEqual(summary.pass1.value);
    // pass@2: a = 1 - C(3,2)/C(4,2) = 1/2; b = 1 - 0 = 1 (n-c=1 < 2).
    expect(summary.passAtK).toEqual([
      { k: 1, value: 0.5 },
      { k: 2, value: 0.75 },
      { k: 4, value: 1 },
    ]);
    // maj@4 (all four samples vote): a's plurality is "7" (wrong), b's is "2" (right).
    expect(summary.majAtK.at(-1)).toEqual({ k: 4, value: 0.5 });
    expect(summary.breakdowns.level?.map(({ group, value }) => [group, value])).toEqual([
      ['1', 0.25],
      ['2', 0.75],
    ]);
    expect(summary.tokens).toMatchObject({ promptTotal: 40, completionTotal: 80 });
    expect(summary.lengthHistogram.unit).toBe('tokens');
  });

  it('uses a Wilson interval for one sample per problem', () => {
    const summary = summarizeRun({ benchmark: 't', model: 'm', n: 1, items, verdicts: [verdict('a', 0, true, '1'), verdict('b', 0, false, '3')], breakdowns: [] });
    // Wilson 95% for 1/2: center (0.5 + 1.96²/4)/(1 + 1.96²/2) = 0.5, half-width ≈ 0.4056.
    expect(summary.pass1.value).toBe(0.5);
    expect(summary.pass1.low).toBeCloseTo(0.0945, 3);
    expect(summary.pass1.high).toBeCloseTo(0.9055, 3);
  });

  it('gives nearest-rank percentiles', () => {
    expect(percentiles([5, 1, 4, 2, 3])).toEqual({ count: 5, mean: 3, p50: 3, p90: 5, p99: 5, max: 5 });
    expect(percentiles([])).toBeNull();
  });
});
