import { TokenSource, type TokenSourceId } from '@aipo/core';

/** A run of consecutive response tokens from one source. */
export interface TrajectorySegment {
  /** `policy`: sampled text; `request`: a triggered request; `result`: an inserted reply or error */
  kind: 'policy' | 'request' | 'result';
  /** TokenSource of every token in the segment */
  source: TokenSourceId;
  /** first token index in the response */
  start: number;
  /** one past the last token index */
  end: number;
  /** the segment's text (decode of its tokens) */
  text: string;
}

/** One consultation attempt and what came of it. */
export interface ConsultationRecord {
  /** the agent asked (as written, even when unknown) */
  agent: string | undefined;
  /** the request text */
  query: string;
  /** `ok`, or why no reply was inserted */
  status: 'ok' | 'budget-exceeded' | 'malformed' | 'agent-error';
  /** for `malformed`: which problem */
  problem?: 'nested' | 'missing-open' | 'empty' | 'unknown-agent' | 'mismatched';
  /** what was inserted between the result tags */
  inserted: string;
  /** the agent's full reply (transcripts) */
  fullReply?: string;
  /** for `agent-error`: the error's code and message */
  error?: { code: string; message: string };
  /** `policy` when the policy wrote the request, else the trigger's name */
  initiator: string;
  /** wall time of the agent call */
  durationMs: number;
}

/** How the rollout ended. */
export type RolloutFinish = 'answer' | 'length' | 'max-steps' | 'unclosed-request';

/**
 * The token-level result of one AIPO rollout, in the layout @aipo/core's AIPO loss consumes
 * (`sourceMask` with TokenSource.policy = 0 / TokenSource.agent = 2, per-token log-probs).
 */
export interface AipoTrajectory {
  /** the prompt's tokens (not part of the response arrays) */
  promptTokenIds: number[];
  /** [T] response tokens: policy samples and inserted agent text, in order */
  tokenIds: number[];
  /** [T] TokenSource per response token */
  sourceMask: Uint8Array;
  /** [T] 1 where the token enters the loss (policy tokens; agent tokens only with `trainOnAgentTokens`; all 0 when truncated and `maskTruncated`) */
  lossMask: Uint8Array;
  /** [T] log π_old for policy tokens; the agent's own log-prob for agent tokens when known, else NaN */
  logProbs: Float32Array;
  /** [T] 1 where an agent token carries the agent's log-prob in `logProbs` */
  agentLogProbMask: Uint8Array;
  /** the response as text */
  text: string;
  /** consecutive runs by source */
  segments: TrajectorySegment[];
  /** every consultation attempt, including refused and failed ones */
  consultations: ConsultationRecord[];
  /** response tokens per source */
  tokensBySource: { policy: number; agent: number };
  /** how the rollout ended */
  finish: RolloutFinish;
  /** requests the policy left open at the end (unclosed tags) */
  unclosedRequest: boolean;
  /** policy turns taken */
  steps: number;
}

/** Accumulates tokens by source while a rollout runs. */
export class TrajectoryBuilder {
  readonly tokenIds: number[] = [];
  readonly sources: number[] = [];
  readonly logProbs: number[] = [];
  readonly agentLogProbMask: number[] = [];
  readonly segments: TrajectorySegment[] = [];

  get length(): number {
    return this.tokenIds.length;
  }

  append(options: {
    kind: TrajectorySegment['kind'];
    source: TokenSourceId;
    tokenIds: readonly number[];
    logProbs?: readonly number[];
    text: string;
  }): void {
    const { kind, source, tokenIds, logProbs, text } = options;
    if (tokenIds.length === 0) return;
    const start = this.tokenIds.length;
    for (let index = 0; index < tokenIds.length; index++) {
      const logProb = logProbs?.[index];
      this.tokenIds.push(tokenIds[index] as number);
      this.sources.push(source);
      this.logProbs.push(logProb ?? Number.NaN);
      this.agentLogProbMask.push(
        source === TokenSource.agent && logProb !== undefined && Number.isFinite(logProb) ? 1 : 0,
      );
    }
    const last = this.segments.at(-1);
    if (last && last.kind === kind && last.source === source && last.end === start) {
      last.end = this.tokenIds.length;
      last.text += text;
    } else {
      this.segments.push({ kind, source, start, end: this.tokenIds.length, text });
    }
  }
}

/** Pad trajectories into `[B,T]` rows (row-major) for a core `PolicyBatch`. */
export function packTrajectories(options: {
  trajectories: readonly AipoTrajectory[];
  sequenceLength?: number;
  padTokenId?: number;
}): {
  batchSize: number;
  sequenceLength: number;
  tokenIds: Int32Array;
  sourceMask: Uint8Array;
  lossMask: Uint8Array;
  rolloutLogProbs: Float32Array;
} {
  const { trajectories, padTokenId = 0 } = options;
  const sequenceLength =
    options.sequenceLength ?? trajectories.reduce((max, trajectory) => Math.max(max, trajectory.tokenIds.length), 0);
  const batchSize = trajectories.length;
  const tokenIds = new Int32Array(batchSize * sequenceLength).fill(padTokenId);
  const sourceMask = new Uint8Array(batchSize * sequenceLength);
  const lossMask = new Uint8Array(batchSize * sequenceLength);
  // Padding and unknown agent log-probs are 0 here: core rejects NaN under a set mask, and padding is masked out.
  const rolloutLogProbs = new Float32Array(batchSize * sequenceLength);
  trajectories.forEach((trajectory, row) => {
    const length = Math.min(sequenceLength, trajectory.tokenIds.length);
    const offset = row * sequenceLength;
    for (let t = 0; t < length; t++) {
      tokenIds[offset + t] = trajectory.tokenIds[t] as number;
      sourceMask[offset + t] = trajectory.sourceMask[t] as number;
      lossMask[offset + t] = trajectory.lossMask[t] as number;
      const logProb = trajectory.logProbs[t] as number;
      rolloutLogProbs[offset + t] = Number.isFinite(logProb) ? logProb : 0;
    }
  });
  return { batchSize, sequenceLength, tokenIds, sourceMask, lossMask, rolloutLogProbs };
}
