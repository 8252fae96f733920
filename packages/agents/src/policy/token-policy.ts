/** One generation request to a {@link TokenPolicy}. */
export interface TokenPolicyRequest {
  /** the full token context to continue from (prompt plus everything generated or inserted so far) */
  context: number[];
  /** upper bound on new tokens */
  maxTokens: number;
  /** sampling temperature */
  temperature?: number;
  /** nucleus sampling mass */
  topP?: number;
  /** top-k sampling */
  topK?: number;
  /** stop strings; the stop text IS included in the returned tokens and text */
  stop?: string[];
  /** stop token ids (e.g. end-of-sequence); the stop token is included */
  stopTokenIds?: number[];
  /** sampling seed */
  seed?: number;
}

/** What a {@link TokenPolicy} generated. */
export interface TokenPolicyOutput {
  /** sampled token ids */
  tokenIds: number[];
  /** log π(token) for each sampled token, aligned with `tokenIds` */
  logProbs: number[];
  /** decoded text of `tokenIds` */
  text: string;
  /** `stop` when a stop string / stop token ended generation, `length` at maxTokens */
  finishReason: 'stop' | 'length';
  /** the stop string that matched, if any */
  stop?: string;
}

/**
 * The structural interface the trainer's policy implements. It lives here, not in @aipo/trainer,
 * because the trainer imports agents for its recipes; a dependency the other way would be a cycle.
 */
export interface TokenPolicy {
  /** identifies the policy in transcripts */
  readonly modelId: string;
  /** text → token ids (no special tokens added) */
  encode(text: string): number[];
  /** token ids → text */
  decode(tokenIds: number[]): string;
  /** continue from a token context; generation ends at a stop string / stop token (the stop text IS included in the returned tokens and text) or maxTokens */
  generate(request: TokenPolicyRequest, signal?: AbortSignal): Promise<TokenPolicyOutput>;
  /** render chat messages into the policy's prompt format, when it has one */
  applyChatTemplate?(
    messages: Array<{ role: string; content: string }>,
    options?: { addGenerationPrompt?: boolean },
  ): string;
}
