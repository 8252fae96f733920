/**
 * What a recipe needs from a problem: a prompt to continue, a gold answer for the math grader, a
 * question to forward to consulted agents, and (for LUFFY's off-policy member and the SFT warm-up)
 * a reference solution. The embedded arithmetic task and JSONL datasets both produce it.
 */
export interface RecipeProblem {
  /** stable id */
  id: string;
  /** difficulty level (the arithmetic task: operations per problem; datasets: `level`, default 1) */
  difficulty: number;
  /** the question as agents see it (`ConsultRequest.question`) */
  expression: string;
  /** the evaluation prompt the policy continues (interaction off) */
  prompt: string;
  /** the gold answer, graded by the math grader */
  answer: string;
  /** a reference solution ending in `\boxed{answer}`; empty when the dataset has none */
  solution: string;
}
