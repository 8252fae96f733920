import type { SamplingSettings } from './create-sampler';
import type { FailureKind } from './retry-policy';

/** First line of a results file: what produced it, so `--resume` and `bench grade` can check and reload. */
export interface RunHeader {
  type: 'run';
  formatVersion: 1;
  benchmark: string;
  model: string;
  /** prompt template name or "custom" */
  template: string;
  sampling: SamplingSettings;
  /** run seed; per-sample seeds derive from it */
  seed: number;
  /** samples per problem */
  n: number;
  /** how the dataset was loaded (path, release, date window, shuffle seed) */
  dataset: { path?: string; release?: string; since?: string; until?: string; seed?: number; limit?: number };
  startedAt: string;
  /** what produced the file: @aipo/bench, @aipo/graders and Node versions (informative; not checked on resume) */
  versions?: Record<string, string>;
}

/** One model reply (or API failure), written the moment it arrives. */
export interface SampleRecord {
  type: 'sample';
  /** cache key: sha256 of model, prompt, sampling settings, seed and sample index */
  key: string;
  itemId: string;
  sampleIndex: number;
  seed: number;
  status: 'ok' | 'error';
  output?: string;
  nullContent?: boolean;
  finishReason?: string | null;
  usage?: { promptTokens: number; completionTokens: number } | null;
  systemFingerprint?: string | null;
  latencyMs: number;
  attempts: number;
  error?: { kind: FailureKind; message: string; httpStatus?: number };
}

/** The grader's verdict on one sample. */
export interface GradeRecord {
  type: 'grade';
  key: string;
  itemId: string;
  sampleIndex: number;
  pass: boolean;
  score: number;
  reason: string;
  parseFailed?: boolean;
  details: Record<string, unknown>;
}

export type ResultRecord = RunHeader | SampleRecord | GradeRecord;
