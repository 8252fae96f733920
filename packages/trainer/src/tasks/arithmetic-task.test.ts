import { createRng } from '@aipo/core';
import { describe, expect, it } from 'vitest';
import { countAvailableProblems, generateProblems, makeProblem, solveExpression } from './arithmetic-task';
import { gradeArithmetic } from './grade-arithmetic';

describe('arithmetic task', () => {
  it('solves left to right and writes a step per line with a boxed answer', () => {
    const problem = makeProblem('3+5-2+7');
    expect(problem.answer).toBe('13');
    expect(problem.difficulty).toBe(3);
    expect(problem.prompt).toBe('3+5-2+7=?\n');
    expect(problem.solution).toBe('3+5=8\n8-2=6\n6+7=13\n\\boxed{13}');
    expect(solveExpression('1-9').answer).toBe(-8);
  });

  it('generates distinct problems of the asked difficulty, reproducibly from a seed', () => {
    const draw = () => {
      const rng = createRng(7);
      return generateProblems({ count: 50, difficulty: 4, random: () => rng.next() });
    };
    const first = draw();
    expect(first.map((problem) => problem.id)).toEqual(draw().map((problem) => problem.id));
    expect(new Set(first.map((problem) => problem.id)).size).toBe(50);
    expect(first.every((problem) => problem.steps.length === 4)).toBe(true);
  });

  it('keeps excluded problems out and can exhaust a small difficulty', () => {
    const rng = createRng(1);
    const held = generateProblems({ count: 10, difficulty: 1, random: () => rng.next() });
    const exclude = new Set(held.map((problem) => problem.id));
    const rest = generateProblems({ count: countAvailableProblems({ difficulty: 1, exclude }), difficulty: 1, random: () => rng.next(), exclude });
    expect(rest).toHaveLength(162 - 10);
    expect(rest.some((problem) => exclude.has(problem.id))).toBe(false);
  });

  it('rejects bad input with typed errors', () => {
    const random = () => 0.5;
    expect(() => generateProblems({ count: 1, difficulty: 0, random })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => generateProblems({ count: 1, difficulty: 2.5, random })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => generateProblems({ count: 163, difficulty: 1, random })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => makeProblem('12+3')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => makeProblem('')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('is graded by the math grader: the reference passes, wrong or missing answers fail', async () => {
    const problem = makeProblem('9-3-8');
    expect(await gradeArithmetic({ problem, output: problem.solution })).toBe(1);
    expect(await gradeArithmetic({ problem, output: '9-3=6\n6-8=-2\n\\boxed{-2}' })).toBe(1);
    expect(await gradeArithmetic({ problem, output: '9-3=6\n6-8=2\n\\boxed{2}' })).toBe(0);
    expect(await gradeArithmetic({ problem, output: '9-3=6\n6-8=-2' })).toBe(0);
    expect(await gradeArithmetic({ problem, output: '' })).toBe(0);
  });
});
