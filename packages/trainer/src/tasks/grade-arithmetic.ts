import { mathGrader } from '@aipo/graders';
import type { RecipeProblem } from './recipe-problem';

/**
 * Binary outcome reward of the embedded task, from the real math grader (last `\boxed{}` vs the
 * gold answer): 1 correct, 0 otherwise, no format bonus and no consultation bonus (the AIPO
 * prototype's reward.py and LUFFY's math_verify_reward.py are both outcome-only).
 */
export async function gradeArithmetic(options: { problem: Pick<RecipeProblem, 'answer'>; output: string; signal?: AbortSignal }): Promise<number> {
  const { problem, output, signal } = options;
  const result = await mathGrader.grade({ output, reference: problem.answer, ...(signal ? { signal } : {}) });
  return result.pass ? 1 : 0;
}
