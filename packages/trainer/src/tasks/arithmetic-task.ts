import { AipoError } from '@aipo/core';
import type { RecipeProblem } from './recipe-problem';

/**
 * The embedded task: chains of single-digit additions and subtractions, solved left to right one
 * step per line and closed with `\boxed{answer}`. Difficulty = number of operations, so a harder
 * problem needs a longer chain of correct steps (the "reasoning bottleneck" AIPO consults on,
 * arXiv 2605.08401). Small enough for a character-level model trained on a laptop CPU; every
 * problem has an exact reference trace (LUFFY's off-policy trace, arXiv 2504.14945, and the SFT data).
 */
export interface ArithmeticProblem extends RecipeProblem {
  // From RecipeProblem: `id` is `d<difficulty>-<operands and operators>`, `difficulty` the number of
  // operations, `expression` e.g. `3+5-2`, `prompt` e.g. `3+5-2=?\n`, `solution` the step-by-step
  // reference ending in `\boxed{answer}`.
  /** the intermediate steps `a op b = c`, in order */
  steps: ArithmeticStep[];
}

export interface ArithmeticStep {
  /** left operand (the running value) */
  left: number;
  /** `+` or `-` */
  operator: '+' | '-';
  /** right operand (a digit from the problem) */
  right: number;
  /** the step's result */
  result: number;
}

/** Difficulties the generator accepts. Beyond 6 steps the character model's context gets long. */
export const MIN_DIFFICULTY = 1;
export const MAX_DIFFICULTY = 6;

/** Format one step as it appears in a trace: `8-2=6`. */
export function formatStep(step: ArithmeticStep): string {
  return `${step.left}${step.operator}${step.right}=${step.result}`;
}

/** Solve an expression of single digits joined by + and - (left to right). Throws on anything else. */
export function solveExpression(expression: string): { answer: number; steps: ArithmeticStep[] } {
  const match = /^\d([+-]\d)+$/.exec(expression);
  if (match === null) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `expected single digits joined by + or - (e.g. "3+5-2"), got ${JSON.stringify(expression)}`,
    });
  }
  let value = Number(expression[0]);
  const steps: ArithmeticStep[] = [];
  for (let index = 1; index < expression.length; index += 2) {
    const operator = expression[index] === '+' ? '+' : '-';
    const right = Number(expression[index + 1]);
    const result = operator === '+' ? value + right : value - right;
    steps.push({ left: value, operator, right, result });
    value = result;
  }
  return { answer: value, steps };
}

/** Build the problem record (prompt, steps, reference solution) for an expression. */
export function makeProblem(expression: string): ArithmeticProblem {
  const { answer, steps } = solveExpression(expression);
  const solution = `${steps.map(formatStep).join('\n')}\n\\boxed{${answer}}`;
  return {
    id: `d${steps.length}-${expression}`,
    difficulty: steps.length,
    expression,
    prompt: `${expression}=?\n`,
    answer: String(answer),
    solution,
    steps,
  };
}

export interface GenerateProblemsOptions {
  /** how many problems */
  count: number;
  /** number of operations per problem, MIN_DIFFICULTY..MAX_DIFFICULTY */
  difficulty: number;
  /** uniform random numbers in [0, 1) (pass a seeded generator for reproducible sets) */
  random: () => number;
  /** problem ids to skip (keeps held-out evaluation sets disjoint from training sets) */
  exclude?: ReadonlySet<string>;
}

/** Distinct problems of one difficulty (9·18^d: a first digit, then an operator and a digit per step), minus excluded ones. */
export function countAvailableProblems(options: { difficulty: number; exclude?: ReadonlySet<string> }): number {
  const { difficulty, exclude } = options;
  const prefix = `d${difficulty}-`;
  const excluded = exclude === undefined ? 0 : [...exclude].filter((id) => id.startsWith(prefix)).length;
  return 9 * 18 ** difficulty - excluded;
}

/**
 * Draw `count` distinct problems of one difficulty. Operands are digits 1..9. Throws
 * INVALID_ARGUMENT when the difficulty is out of range or `count` exceeds what can be drawn
 * without repeats (so a bad config fails fast instead of looping forever).
 */
export function generateProblems(options: GenerateProblemsOptions): ArithmeticProblem[] {
  const { count, difficulty, random, exclude } = options;
  if (!Number.isInteger(difficulty) || difficulty < MIN_DIFFICULTY || difficulty > MAX_DIFFICULTY) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `difficulty must be an integer in ${MIN_DIFFICULTY}..${MAX_DIFFICULTY}, got ${difficulty}`,
    });
  }
  const available = countAvailableProblems({ difficulty, ...(exclude ? { exclude } : {}) });
  if (!Number.isInteger(count) || count < 0 || count > available) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `count must be an integer in 0..${available} for difficulty ${difficulty}, got ${count}`,
    });
  }
  const digit = () => 1 + Math.floor(random() * 9);
  const seen = new Set<string>();
  const problems: ArithmeticProblem[] = [];
  while (problems.length < count) {
    let expression = String(digit());
    for (let step = 0; step < difficulty; step += 1) expression += `${random() < 0.5 ? '+' : '-'}${digit()}`;
    const problem = makeProblem(expression);
    if (seen.has(problem.id) || exclude?.has(problem.id)) continue;
    seen.add(problem.id);
    problems.push(problem);
  }
  return problems;
}
