import { readFile } from 'node:fs/promises';
import { AipoError, createRng, shuffle } from '@aipo/core';
import type { ProblemSets } from '../recipes/problem-sets';
import type { RecipeProblem } from './recipe-problem';

/** Where `{problem}` goes in the evaluation prompt; the default is Qwen2.5-Math's instruction (eval.md). */
export const DEFAULT_DATASET_PROMPT = '{problem}\nPlease reason step by step, and put your final answer within \\boxed{}.\n';

export interface DatasetProblemSetsOptions {
  /** JSONL file, one `{ "problem": string, "answer": string | number }` per line (`solution`, `level`, `id` optional) */
  path: string;
  /** problems held out for evaluation (drawn first, after a seeded shuffle) */
  evalProblems: number;
  /** evaluation prompt with a `{problem}` placeholder */
  prompt: string;
  /** seeds the shuffle */
  seed: number;
}

/**
 * A recipe task from a dataset file (MATH-500's `test.jsonl` has this shape): every record becomes
 * a `RecipeProblem` graded by the math grader against `answer`. A seeded shuffle splits it into a
 * held-out evaluation set and training problems keyed by `level` (1 when absent). Bad records fail
 * with INVALID_DATASET naming the file and line.
 */
export async function loadDatasetProblemSets(options: DatasetProblemSetsOptions): Promise<ProblemSets> {
  const { path, evalProblems, prompt, seed } = options;
  if (!prompt.includes('{problem}')) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: 'task.dataset.prompt must contain the placeholder {problem}' });
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot read dataset ${path}: ${(error as Error).message}`, cause: error });
  }
  const problems: RecipeProblem[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    problems.push(parseRecord({ line, path, lineNumber: index + 1, prompt }));
  }
  if (problems.length <= evalProblems) {
    throw new AipoError({
      code: 'INVALID_DATASET',
      message: `${path} has ${problems.length} problems; task.dataset.evalProblems (${evalProblems}) must leave at least one for training`,
    });
  }
  const shuffled = shuffle(createRng(seed), problems);
  const evaluation = shuffled.slice(0, evalProblems).sort((a, b) => a.difficulty - b.difficulty);
  const train = new Map<number, RecipeProblem[]>();
  for (const problem of shuffled.slice(evalProblems)) train.set(problem.difficulty, [...(train.get(problem.difficulty) ?? []), problem]);
  return { train: new Map([...train.entries()].sort(([a], [b]) => a - b)), evaluation };
}

function parseRecord(options: { line: string; path: string; lineNumber: number; prompt: string }): RecipeProblem {
  const { line, path, lineNumber, prompt } = options;
  const fail = (reason: string): never => {
    throw new AipoError({ code: 'INVALID_DATASET', message: `${path}:${lineNumber}: ${reason}`, details: { path, line: lineNumber } });
  };
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return fail('not valid JSON');
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return fail('expected a JSON object');
  const { problem, answer, solution, level, id } = record as Record<string, unknown>;
  if (typeof problem !== 'string' || problem.trim() === '') return fail('"problem" must be a non-empty string');
  if (!((typeof answer === 'string' && answer.trim() !== '') || (typeof answer === 'number' && Number.isFinite(answer)))) {
    return fail('"answer" must be a non-empty string or a finite number');
  }
  if (solution !== undefined && typeof solution !== 'string') return fail('"solution" must be a string when present');
  // MATH writes levels as "Level 3"; keep the number
  const levelNumber = typeof level === 'number' ? level : typeof level === 'string' ? Number(/\d+/.exec(level)?.[0]) : 1;
  return {
    id: typeof id === 'string' && id !== '' ? id : `line-${lineNumber}`,
    difficulty: Number.isInteger(levelNumber) && levelNumber > 0 ? levelNumber : 1,
    expression: problem,
    prompt: prompt.replaceAll('{problem}', problem),
    answer: String(answer),
    solution: solution ?? '',
  };
}
