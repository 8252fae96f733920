import { describe, expect, it } from 'vitest';
import { extractChoice } from './extract-choice';
import { formatMultipleChoicePrompt } from './format-multiple-choice-prompt';
import { multipleChoiceGrader } from './multiple-choice-grader';
import { shuffleChoices } from './shuffle-choices';

const ITEM = { correct: 'right', incorrect: ['wrong 1', 'wrong 2', 'wrong 3'] };

describe('shuffleChoices', () => {
  it('is a permutation whose gold letter points at the correct option', () => {
    for (let itemId = 0; itemId < 50; itemId++) {
      const { choices, goldLetter } = shuffleChoices({ ...ITEM, seed: 0, itemId });
      expect([...choices].sort()).toEqual(['right', 'wrong 1', 'wrong 2', 'wrong 3']);
      expect(choices['ABCD'.indexOf(goldLetter)]).toBe('right');
    }
  });

  it('is reproducible for the same (seed, item) and varies across items and seeds', () => {
    const first = shuffleChoices({ ...ITEM, seed: 7, itemId: 'gpqa-12' });
    expect(shuffleChoices({ ...ITEM, seed: 7, itemId: 'gpqa-12' })).toEqual(first);
    const letters = new Set(Array.from({ length: 40 }, (_, itemId) => shuffleChoices({ ...ITEM, seed: 7, itemId }).goldLetter));
    expect(letters).toEqual(new Set(['A', 'B', 'C', 'D']));
    const orders = new Set(Array.from({ length: 10 }, (_, seed) => shuffleChoices({ ...ITEM, seed, itemId: 'x' }).choices.join('|')));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('spreads the gold letter roughly evenly (no position bias)', () => {
    const counts: Record<string, number> = { A: 0, B: 0, C: 0, D: 0 };
    for (let itemId = 0; itemId < 4000; itemId++) counts[shuffleChoices({ ...ITEM, seed: 1, itemId }).goldLetter]! += 1;
    for (const count of Object.values(counts)) expect(count).toBeGreaterThan(850);
  });

  it('rejects malformed input with INVALID_ARGUMENT', () => {
    expect(() => shuffleChoices({ ...ITEM, incorrect: [], seed: 0, itemId: 1 })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => shuffleChoices({ ...ITEM, seed: 0.5, itemId: 1 })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => shuffleChoices({ correct: 'a', incorrect: [3 as unknown as string], seed: 0, itemId: 1 })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('formatMultipleChoicePrompt', () => {
  it("reproduces simple-evals' QUERY_TEMPLATE_MULTICHOICE exactly", () => {
    expect(formatMultipleChoicePrompt('What is 2+2?', ['3', '4', '5', '6'])).toBe(
      "Answer the following multiple choice question. The last line of your response should be of the following format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by step before answering.\n\nWhat is 2+2?\n\nA) 3\nB) 4\nC) 5\nD) 6",
    );
  });
  it('extends the letters for more options and rejects too few', () => {
    expect(formatMultipleChoicePrompt('Q', ['a', 'b', 'c', 'd', 'e'])).toContain('one of ABCDE.');
    expect(() => formatMultipleChoicePrompt('Q', ['a'])).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('extractChoice', () => {
  it.each([
    ['Reasoning...\nAnswer: B', 'B', 'answer-line'],
    ['answer: $C$', 'C', 'answer-line'],
    ['Answer:D', 'D', 'answer-line'],
    ['**Answer:** B', 'B', 'answer-line'],
    ['Answer: (A)', 'A', 'answer-line'],
    ['Answer: A\nWait, no.\nAnswer: C', 'C', 'answer-line'],
    ['<think>Answer: A</think>Answer: B', 'B', 'answer-line'],
    ['so \\boxed{D}', 'D', 'boxed'],
    ['so \\boxed{\\text{B}}', 'B', 'boxed'],
    ['so \\boxed{(C)}', 'C', 'boxed'],
    ['Thus the answer is (A).', 'A', 'answer-is'],
  ])('%j → %s via %s', (output, letter, source) => {
    expect(extractChoice(output)).toEqual({ letter, source });
  });

  it.each([['The answer: definitely unclear'], ['Answer: E'], ['no letter here'], ['\\boxed{42}'], ['<think>Answer: A']])('%j → no answer', (output) => {
    expect(extractChoice(output)).toBeUndefined();
  });
});

describe('multipleChoiceGrader', () => {
  it('maps a shuffled item end to end: prompt, output, verdict', async () => {
    const { choices, goldLetter } = shuffleChoices({ ...ITEM, seed: 3, itemId: 'q1' });
    expect(formatMultipleChoicePrompt('Pick the right one', choices)).toContain(`${goldLetter}) right`);
    const pass = await multipleChoiceGrader.grade({ output: `I think...\nAnswer: ${goldLetter}`, reference: goldLetter });
    expect(pass).toMatchObject({ pass: true, score: 1, details: { extracted: goldLetter, gold: goldLetter } });
    const other = 'ABCD'.replace(goldLetter, '')[0] as string;
    const fail = await multipleChoiceGrader.grade({ output: `Answer: ${other}`, reference: goldLetter });
    expect(fail).toMatchObject({ pass: false, score: 0 });
    expect(fail.parseFailed).toBeUndefined();
  });

  it('reports parse failures, never inverted into a pass', async () => {
    const result = await multipleChoiceGrader.grade({ output: 'I refuse to answer', reference: 'A' });
    expect(result).toMatchObject({ pass: false, score: 0, parseFailed: true });
  });

  it('accepts letters beyond D when the gold letter or choiceCount asks for them', async () => {
    expect((await multipleChoiceGrader.grade({ output: 'Answer: E', reference: 'E' })).pass).toBe(true);
    expect((await multipleChoiceGrader.grade({ output: 'Answer: F', reference: 'A', options: { choiceCount: 6 } })).details.extracted).toBe('F');
  });

  it('throws INVALID_ARGUMENT on misuse', async () => {
    await expect(multipleChoiceGrader.grade({ output: 'Answer: A', reference: 'a' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(multipleChoiceGrader.grade({ output: 42 as unknown as string, reference: 'A' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(multipleChoiceGrader.grade({ output: 'Answer: A', reference: 'A', options: { choiceCount: 1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
