import { afterAll, describe, expect, it } from 'vitest';
import { createMathGrader } from './math-grader';
import { MathPool } from './math-pool';

const pool = new MathPool({ size: 1, timeoutMs: 5000 });
afterAll(() => pool.close());
const grader = createMathGrader({ pool });

describe('createMathGrader', () => {
  it('passes an equivalent boxed answer and records how it decided', async () => {
    const result = await grader.grade({ output: '<think>hmm \\boxed{3}</think> Hence $\\boxed{\\dfrac{1}{2}}$.', reference: '0.5' });
    expect(result).toMatchObject({ pass: true, score: 1, details: { extracted: '\\dfrac{1}{2}', source: 'boxed', gold: '0.5', method: 'number', timedOut: false } });
    expect(result.parseFailed).toBeUndefined();
  });

  it('fails a wrong answer as a result, not an exception', async () => {
    const result = await grader.grade({ output: '\\boxed{\\sqrt{3}}', reference: '\\sqrt{2}' });
    expect(result).toMatchObject({ pass: false, score: 0 });
    expect(result.reason.length).toBeGreaterThan(0);
  });

  it('marks outputs without an answer as parseFailed', async () => {
    const result = await grader.grade({ output: 'I think it is 5', reference: '5' });
    expect(result).toMatchObject({ pass: false, score: 0, parseFailed: true });
  });

  it('uses fallbacks only when configured, also per call', async () => {
    const output = 'so the final answer is 5';
    expect((await grader.grade({ output, reference: '5' })).parseFailed).toBe(true);
    const perCall = await grader.grade({ output, reference: '5', options: { fallbacks: ['final-answer'] } });
    expect(perCall).toMatchObject({ pass: true, details: { source: 'final-answer' } });
    const lastNumber = createMathGrader({ pool, fallbacks: ['last-number'] });
    expect((await lastNumber.grade({ output: 'I think it is 5 apples', reference: '5' })).pass).toBe(true);
  });

  it('accepts AIME integers given as numbers', async () => {
    expect((await grader.grade({ output: '\\boxed{025}', reference: 25 })).pass).toBe(true);
  });

  it('honours floatRounding', async () => {
    const coarse = createMathGrader({ pool, floatRounding: 2 });
    expect((await coarse.grade({ output: '\\boxed{0.33}', reference: '\\frac{1}{3}' })).pass).toBe(true);
    expect((await grader.grade({ output: '\\boxed{0.33}', reference: '\\frac{1}{3}' })).pass).toBe(false);
  });

  it('records a CAS timeout as a failing result with details.timedOut', async () => {
    const hasty = createMathGrader({ pool, timeoutMs: 200 });
    const result = await hasty.grade({ output: '\\boxed{100000!}', reference: '1' });
    expect(result).toMatchObject({ pass: false, details: { timedOut: true, method: 'timeout' } });
  });

  it('throws INVALID_ARGUMENT on misuse: bad reference, output or options', async () => {
    await expect(grader.grade({ output: '\\boxed{1}', reference: undefined as unknown as string })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(grader.grade({ output: '\\boxed{1}', reference: Number.NaN })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(grader.grade({ output: null as unknown as string, reference: '1' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(grader.grade({ output: '\\boxed{1}', reference: '1', options: { precision: 3 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(grader.grade({ output: '\\boxed{1}', reference: '1', options: { fallbacks: ['guess'] } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => createMathGrader({ timeoutMs: -5 })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
