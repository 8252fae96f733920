import { closeMathPool } from '@aipo/graders';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchItem } from '../benchmark';
import type { SampleVerdict } from '../run/sample-verdict';
import { clusterAnswers, mathAnswerKey } from './cluster-answers';
import { summarizeRun } from './summarize-run';
import { mathAnswerVoting, voteByEquivalence } from './vote-by-equivalence';

afterAll(() => closeMathPool());

describe('mathAnswerKey', () => {
  it('maps integers, decimals and simple fractions to one exact reduced rational', () => {
    for (const form of ['0.5', '1/2', '\\frac{1}{2}', '\\frac{2}{4}', '0.50', '2/4']) expect(mathAnswerKey(form), form).toBe('1/2');
    expect(mathAnswerKey('-\\frac{3}{6}')).toBe('-1/2');
    expect(mathAnswerKey('5.0')).toBe('5');
    expect(mathAnswerKey('005')).toBe('5');
    expect(mathAnswerKey('-0')).toBe('0');
    expect(mathAnswerKey('0.333333')).toBe('333333/1000000');
  });

  it('leaves everything else as its whitespace-free text (a division by zero too)', () => {
    expect(mathAnswerKey('x + 1')).toBe('x+1');
    expect(mathAnswerKey('1/0')).toBe('1/0');
    expect(mathAnswerKey('\\sqrt{2}')).toBe('\\sqrt{2}');
    const long = '1'.repeat(80);
    expect(mathAnswerKey(long)).toBe(long);
  });
});

describe('clusterAnswers', () => {
  it('joins equal keys without comparing, compares new keys with representatives in order, and keeps abstentions', async () => {
    const calls: Array<[string, string]> = [];
    // "equivalent" here: same length (a stand-in that is obviously not transitive-safe on purpose)
    const equivalent = async (left: string, right: string) => {
      calls.push([left, right]);
      return left.length === right.length;
    };
    const clusters = await clusterAnswers({ answers: ['aa', undefined, 'aa', 'bb', 'ccc', 'bb', 'd'], equivalent });
    expect(clusters).toEqual(['aa', undefined, 'aa', 'aa', 'ccc', 'aa', 'd']);
    // 'bb' compared once with 'aa'; 'ccc' with 'aa'; 'd' with 'aa' and 'ccc'; repeats of a key never
    expect(calls).toEqual([
      ['aa', 'bb'],
      ['aa', 'ccc'],
      ['aa', 'd'],
      ['ccc', 'd'],
    ]);
  });

  it('is decided by sample order alone: the first member represents its cluster and ties keep the first match', async () => {
    const equivalent = async () => true;
    expect(await clusterAnswers({ answers: ['z', 'a', 'm'], equivalent })).toEqual(['z', 'z', 'z']);
    expect(await clusterAnswers({ answers: ['m', 'z', 'a'], equivalent })).toEqual(['m', 'm', 'm']);
  });

  it('stops calling the equivalence after the budget and lets unseen keys stand alone', async () => {
    let calls = 0;
    const equivalent = async () => {
      calls++;
      return false;
    };
    const clusters = await clusterAnswers({ answers: ['a', 'b', 'c', 'd', 'b'], equivalent, maxComparisons: 2 });
    expect(clusters).toEqual(['a', 'b', 'c', 'd', 'b']);
    expect(calls).toBe(2);
    await expect(clusterAnswers({ answers: [], equivalent, maxComparisons: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

const verdict = (itemId: string, sampleIndex: number, answer: string | undefined, pass: boolean): SampleVerdict => ({
  itemId,
  sampleIndex,
  status: 'ok',
  pass,
  score: pass ? 1 : 0,
  parseFailed: answer === undefined,
  answer,
  completionTokens: 10,
  promptTokens: 5,
  latencyMs: 1,
  finishReason: 'stop',
  outputChars: 10,
});

describe('maj@k by the math grader\'s equivalence', () => {
  const items: BenchItem[] = [
    { id: 'half', variables: {}, reference: '\\frac{1}{2}', tags: {} },
    { id: 'poly', variables: {}, reference: 'x+1', tags: {} },
  ];
  // As graded: every form of 1/2 passed; 1/3 did not. As text, every answer to `half` is different
  // (a five-way tie the first, wrong, sample wins) and `x+2` is the plurality of `poly`.
  const verdicts = [
    verdict('half', 0, '\\frac{1}{3}', false),
    verdict('half', 1, '1/3', false),
    verdict('half', 2, '0.5', true),
    verdict('half', 3, '\\frac{1}{2}', true),
    verdict('half', 4, '1/2', true),
    // 1+x and x+1 are one answer only to the CAS (no cheap key sees it); `x + 1` shares x+1's key
    verdict('poly', 0, 'x+2', false),
    verdict('poly', 1, '1+x', true),
    verdict('poly', 2, 'x+2', false),
    verdict('poly', 3, 'x+1', true),
    verdict('poly', 4, 'x + 1', true),
  ];
  const summarize = (list: SampleVerdict[]) => summarizeRun({ benchmark: 't', model: 'm', n: 5, items, verdicts: list, breakdowns: [] });

  it('groups 1/2, 0.5 and \\frac{1}{2} (and 1+x with x+1) into one vote, so the right answer wins maj@5', async () => {
    const byText = summarize(verdicts).majAtK.find((entry) => entry.k === 5)?.value;
    expect(byText).toBe(0);
    const voted = await voteByEquivalence({ verdicts, voting: mathAnswerVoting });
    expect(voted.map((entry) => entry.voteFor)).toEqual([
      '\\frac{1}{3}', '\\frac{1}{3}', '0.5', '0.5', '0.5',
      'x+2', '1+x', 'x+2', '1+x', '1+x',
    ]);
    expect(summarize(voted).majAtK.find((entry) => entry.k === 5)?.value).toBe(1);
    // pass@k and pass@1 do not depend on voting
    expect(summarize(voted).passAtK).toEqual(summarize(verdicts).passAtK);
  });

  it('breaks a tie between equivalence classes by the class sampled first, whatever the arrival order', async () => {
    const tie = [verdict('half', 1, '0.5', true), verdict('half', 0, '1/3', false), verdict('half', 3, '1/2', true), verdict('half', 2, '\\frac{1}{3}', false)];
    const voted = await voteByEquivalence({ verdicts: tie, voting: mathAnswerVoting });
    // 1/3 (sample 0) is the earlier class: its members vote for '1/3', the halves for '0.5'
    expect(voted.map((entry) => entry.voteFor)).toEqual(['0.5', '1/3', '0.5', '1/3']);
    const ordered = [...voted].sort((left, right) => left.sampleIndex - right.sampleIndex);
    const summary = summarizeRun({ benchmark: 't', model: 'm', n: 4, items: [items[0] as BenchItem], verdicts: ordered, breakdowns: [] });
    expect(summary.majAtK.find((entry) => entry.k === 4)?.value).toBe(0);
  });
});
