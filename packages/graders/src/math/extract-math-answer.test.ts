import { describe, expect, it } from 'vitest';
import { extractBoxed } from './extract-boxed';
import { extractMathAnswer } from './extract-math-answer';
import { stripThinking } from './strip-thinking';

describe('extractBoxed', () => {
  it.each([
    ['so \\boxed{42}.', '42'],
    ['\\boxed{\\frac{1}{2}}', '\\frac{1}{2}'],
    ['\\boxed{1} then \\boxed{2}', '2'],
    ['\\fbox{7}', '7'],
    ['\\boxed {x+1}', 'x+1'],
    ['\\boxed{\\{1,2\\}}', '\\{1,2\\}'],
    ['\\boxed{a^{b^{c}}}', 'a^{b^{c}}'],
    ['\\boxed{\\boxed{3}}', '\\boxed{3}'],
    ['$\\boxed 5$', '5'],
    ['\\boxed{1+{2', undefined],
    ['\\boxedfoo{1}', undefined],
    ['no box here', undefined],
  ])('%s → %s', (text, expected) => {
    expect(extractBoxed(text)).toBe(expected);
  });
});

describe('stripThinking', () => {
  it('keeps only the text after the last </think>', () => {
    expect(stripThinking('<think>\\boxed{1}</think>final \\boxed{2}')).toBe('final \\boxed{2}');
    expect(stripThinking('<think>a</think><think>b</think>c')).toBe('c');
  });
  it('drops an unclosed <think> block (truncated reasoning is no answer)', () => {
    expect(stripThinking('preface <think>\\boxed{1} and then the budget ran out')).toBe('preface ');
    expect(stripThinking('plain \\boxed{3}')).toBe('plain \\boxed{3}');
  });
});

describe('extractMathAnswer', () => {
  it('takes the last box, outside <think>', () => {
    expect(extractMathAnswer('<think>maybe \\boxed{5}</think> so \\boxed{6}')).toEqual({ answer: '6', source: 'boxed' });
    expect(extractMathAnswer('<think>maybe \\boxed{5}')).toBeUndefined();
  });

  it('joins adjacent boxes into a set (Math-Verify: short gap, or a list joiner within 70 characters)', () => {
    expect(extractMathAnswer('$\\boxed{1}$, $\\boxed{2}$')).toEqual({ answer: '1, 2', source: 'boxed-set' });
    expect(extractMathAnswer('\\boxed{1} or \\boxed{-1}')).toEqual({ answer: '1, -1', source: 'boxed-set' });
    expect(extractMathAnswer('\\boxed{1}. Later after checking every single case again we get \\boxed{2}')).toEqual({ answer: '2', source: 'boxed' });
  });

  it('uses fallbacks only when configured, in priority order', () => {
    const output = 'Some work. The final answer is $12$. I hope it is correct.\nAnswer: 13\nthen 14 apples';
    expect(extractMathAnswer(output)).toBeUndefined();
    expect(extractMathAnswer(output, { fallbacks: ['final-answer', 'answer-colon', 'last-number'] })).toEqual({ answer: '12', source: 'final-answer' });
    expect(extractMathAnswer(output, { fallbacks: ['answer-colon'] })).toEqual({ answer: '13', source: 'answer-colon' });
    expect(extractMathAnswer(output, { fallbacks: ['last-number'] })).toEqual({ answer: '14', source: 'last-number' });
    expect(extractMathAnswer('nothing numeric', { fallbacks: ['last-number'] })).toBeUndefined();
  });

  it('a box wins over every fallback', () => {
    expect(extractMathAnswer('Answer: 3\n\\boxed{4}', { fallbacks: ['answer-colon'] })).toEqual({ answer: '4', source: 'boxed' });
  });

  it('an empty box is no answer', () => {
    expect(extractMathAnswer('\\boxed{ }')).toBeUndefined();
  });
});
