import type { Registry } from '@aipo/core';

/**
 * The outcome of grading one model output. A wrong or unparsable answer is a result, never an
 * exception; graders throw (AipoError with a code) only on misuse or a broken environment.
 */
export interface GradeResult {
  /** the output is correct */
  pass: boolean;
  /** reward in [0, 1]; 1 or 0 for binary graders, a fraction for partial credit */
  score: number;
  /** one short human-readable sentence on why */
  reason: string;
  /** the grader could not find an answer in the output at all (never inverted into a pass) */
  parseFailed?: boolean;
  /** grader-specific structured facts: the extracted answer, the verdict code, the first failing test, ... */
  details: Record<string, unknown>;
}

/** What every grader is given. `reference` is the gold answer (string) or a grader-specific object. */
export interface GradeInput<Reference = unknown> {
  /** the raw model output (reasoning, `<think>` blocks and all) */
  output: string;
  /** the gold answer / test cases */
  reference: Reference;
  /** per-call options, validated by the grader */
  options?: Record<string, unknown>;
  /** cancels long grading (code execution) */
  signal?: AbortSignal;
}

/** A grader: an id, a descriptor of its needs, and one async function. */
export interface Grader<Reference = unknown> {
  /** registry name, e.g. "math", "multiple-choice", "code-python" */
  readonly id: string;
  /** one line for `aipo grade --help` and docs */
  readonly description: string;
  /** true when grading runs untrusted code (needs a sandbox) */
  readonly needsSandbox?: boolean;
  grade(input: GradeInput<Reference>): Promise<GradeResult>;
}

// biome-ignore lint/suspicious/noExplicitAny: one registry holds graders of different reference types
export type GraderRegistry = Registry<Grader<any>>;
