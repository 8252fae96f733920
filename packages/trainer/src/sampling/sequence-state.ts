import type { GenerationRequest, GenerationResult } from './generate';
import type { TokenLogProb } from './top-log-probs';

/**
 * What one sequence has produced so far and whether it is finished: appends sampled tokens,
 * matches stop tokens and stop strings (a stop string may straddle tokens) and streams each token
 * to `onToken`. Shared by every decoding loop so they stop identically.
 */
export class SequenceState {
  readonly tokenIds: number[] = [];
  readonly logProbs: number[] = [];
  readonly topLogProbs: TokenLogProb[][] = [];
  text = '';
  done: boolean;
  finishReason: 'stop' | 'length' = 'length';
  stop: string | undefined;
  /** most new tokens (maxTokens clamped to the model's positions) */
  readonly limit: number;
  private readonly stopTexts: string[];
  private readonly stopIds: Set<number>;

  constructor(
    private readonly request: GenerationRequest,
    private readonly decode: (tokenIds: number[]) => string,
    maxPositions: number,
  ) {
    this.limit = Math.min(request.maxTokens, maxPositions - request.context.length);
    this.done = this.limit <= 0;
    this.stopTexts = request.stop?.filter((s) => s.length > 0) ?? [];
    this.stopIds = new Set(request.stopTokenIds ?? []);
  }

  /** Record one sampled token; sets `done` when it ends the sequence. */
  accept(tokenId: number, logProb: number, alternatives?: TokenLogProb[]): void {
    this.tokenIds.push(tokenId);
    this.logProbs.push(logProb);
    if (alternatives !== undefined) this.topLogProbs.push(alternatives);
    const previousText = this.text;
    this.text = this.decode(this.tokenIds);
    if (this.stopIds.has(tokenId)) {
      this.done = true;
      this.finishReason = 'stop';
    } else {
      // Search only where a new match can start: a stop string may straddle the previous text.
      const from = (s: string) => Math.max(0, previousText.length - s.length + 1);
      const matched = this.stopTexts
        .map((s) => ({ s, at: this.text.indexOf(s, from(s)) }))
        .filter(({ at }) => at !== -1)
        .sort((x, y) => x.at - y.at)[0];
      if (matched !== undefined) {
        this.done = true;
        this.finishReason = 'stop';
        this.stop = matched.s;
      } else if (this.tokenIds.length >= this.limit) {
        this.done = true;
      }
    }
    this.request.onToken?.({ tokenId, logProb, text: this.text, ...(this.done ? { finishReason: this.finishReason } : {}) });
  }

  /** The finished (or aborted-so-far) output. */
  result(cachedTokens: number): GenerationResult {
    return {
      tokenIds: this.tokenIds,
      logProbs: this.logProbs,
      text: this.text,
      finishReason: this.finishReason,
      cachedTokens,
      ...(this.stop === undefined ? {} : { stop: this.stop }),
      ...((this.request.topLogProbs ?? 0) > 0 ? { topLogProbs: this.topLogProbs } : {}),
    };
  }
}
