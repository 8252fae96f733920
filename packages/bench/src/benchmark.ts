import type { Registry } from '@aipo/core';
import type { AnswerVoting } from './metrics/vote-by-equivalence';

/** One chat turn sent to the model. */
export interface ChatMessage {
  /** who speaks */
  role: 'system' | 'user' | 'assistant';
  /** the text */
  content: string;
}

/** A prompt template: `{name}` placeholders are filled from an item's variables. */
export interface PromptTemplate {
  /** optional system message */
  system?: string;
  /** the user turn */
  user: string;
}

/** One problem of a benchmark, ready to prompt and grade. */
export interface BenchItem {
  /** stable id, unique within the benchmark (e.g. MATH500 `unique_id`, LCB `question_id`) */
  id: string;
  /** values for the prompt template placeholders (`problem`, `question`, `format`, ...) */
  variables: Record<string, string>;
  /** what the grader compares against (gold answer string, gold letter, LCB test cases) */
  reference: unknown;
  /** breakdown keys: subject, level, difficulty, platform, ... */
  tags: Record<string, string>;
}

/** Where and how to load a benchmark's items. */
export interface LoadOptions {
  /** a local file or directory (offline use, tests); when absent the Hugging Face hub is used */
  path?: string;
  /** cache directory for hub downloads (default `~/.cache/aipo/datasets`) */
  cacheDir?: string;
  /** hub access token for gated sets (default `HF_TOKEN`) */
  token?: string;
  /** dataset version tag, e.g. LiveCodeBench `release_v5` */
  release?: string;
  /** keep items dated on or after this day (YYYY-MM-DD) */
  since?: string;
  /** keep items dated on or before this day (YYYY-MM-DD) */
  until?: string;
  /** seed for anything random at load time (GPQA choice shuffling) */
  seed?: number;
  /** inject fetch for hub downloads */
  fetch?: typeof fetch;
}

/**
 * A benchmark: how to load its items, how to prompt them, which grader scores them.
 * Adding one is one file exporting such an object plus a line in `builtin.ts`.
 */
export interface Benchmark {
  /** registry name, e.g. "math500" */
  readonly id: string;
  /** one line for `aipo bench list` */
  readonly description: string;
  /** grader registry name used to score outputs */
  readonly graderId: string;
  /** prompt templates by name; `default` matches the anchor (simple-evals, LiveCodeBench, DeepSeek-R1) */
  readonly templates: { readonly default: PromptTemplate } & Readonly<Record<string, PromptTemplate>>;
  /** how answers group for maj@k; absent: by the extracted answer's text (letters, code) */
  readonly answerVoting?: AnswerVoting;
  /** the item tags worth a per-group breakdown, in display order */
  readonly breakdowns: readonly string[];
  load(options?: LoadOptions): Promise<BenchItem[]>;
}

export type BenchmarkRegistry = Registry<Benchmark>;
