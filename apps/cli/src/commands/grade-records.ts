import { AipoError } from '@aipo/core';
import type { GradeResult } from '@aipo/graders';
import { z } from 'zod';

export const answerRecordSchema = z.object({ id: z.unknown().optional(), pred: z.string(), gold: z.union([z.string(), z.number()]).transform(String) });

export const codeRecordSchema = z.object({
  id: z.unknown().optional(),
  code: z.string(),
  language: z.enum(['python', 'javascript']),
  fn_name: z.string().optional(),
  tests: z.array(z.object({ input: z.string(), output: z.string(), testtype: z.enum(['stdin', 'functional']) })).min(1),
});

/** One output line of `aipo grade`: the input's id, the verdict and why. */
export interface VerdictLine {
  id: unknown;
  pass: boolean;
  score: number;
  verdict: string;
  reason: string;
  details: Record<string, unknown>;
}

export function verdictLine(id: unknown, result: GradeResult): VerdictLine {
  const verdict = typeof result.details.verdict === 'string' ? result.details.verdict : result.parseFailed ? 'parse-failed' : result.pass ? 'pass' : 'fail';
  return { id: id ?? null, pass: result.pass, score: result.score, verdict, reason: result.reason, details: result.details };
}

export function invalidLine(id: unknown, reason: string, details: Record<string, unknown>): VerdictLine {
  return { id: id ?? null, pass: false, score: 0, verdict: 'invalid-input', reason, details };
}

/** Environment failures stop a batch; anything else about one record becomes that record's verdict. */
export function isFatal(error: unknown): boolean {
  return AipoError.isInstance(error) && ['SANDBOX_UNAVAILABLE', 'MISSING_DEPENDENCY', 'ABORTED'].includes(error.code);
}
