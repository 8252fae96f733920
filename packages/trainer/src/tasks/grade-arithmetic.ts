import { mathGrader } from '@aipo/graders';
import type { ArithmeticProblem } from './arithmetic-task';

/**
 * Binary outcome reward of the embedded task, from the real math grader (last `\boxed{}` vs the
 * gold answer): 1 correct, 0 otherwise, no format bonus and no consultation bonus (the AIPO
 * prototype's reward.py and LUFFY's math_verify_reward.py are both outcome-only).
 */
export async function gradeArithmetic(options: { problem: ArithmeticProblem; output: string; signal?: AbortSignal }): Promise<number> {
  const { problem, output, signal } = options;
  const result = await mathGrader.grade({ output, reference: problem.answer, ...(signal ? { signal } : {}) });
  return result.pass ? 1 : 0;
}
