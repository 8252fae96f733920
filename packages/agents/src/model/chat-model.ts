/** One chat turn. Roles follow the OpenAI chat schema. */
export interface ChatMessage {
  /** who speaks: system instructions, the user, or the model */
  role: 'system' | 'user' | 'assistant';
  /** the turn's text */
  content: string;
}

/** Sampling settings for one call. Unset fields use the backend's defaults. */
export interface ChatGenerateOptions {
  /** sampling temperature; 0 means greedy (and makes the call cacheable) */
  temperature?: number;
  /** nucleus sampling mass */
  topP?: number;
  /** top-k sampling (not part of the OpenAI schema; vLLM-style servers accept it in the body) */
  topK?: number;
  /** upper bound on generated tokens */
  maxTokens?: number;
  /** stop strings; the matched stop text is kept at the end of `text` */
  stop?: string[];
  /** sampling seed, where the backend supports it */
  seed?: number;
  /** request per-token log-probs of the generated tokens */
  logProbs?: boolean;
}

/** Token counts of one call. */
export interface ChatUsage {
  /** tokens in the prompt */
  promptTokens: number;
  /** tokens generated */
  completionTokens: number;
}

/** One generated token with its log-probability. */
export interface TokenLogProb {
  /** the token's text */
  token: string;
  /** natural-log probability under the generating model */
  logProb: number;
}

/** Why generation ended: a stop string or end-of-turn, the token limit, or a content filter. */
export type ChatFinishReason = 'stop' | 'length' | 'content_filter' | 'other';

/** The outcome of one `generate` call. */
export interface ChatResult {
  /** generated text (including the stop string when one was matched) */
  text: string;
  /** token accounting */
  usage: ChatUsage;
  /** why generation ended */
  finishReason: ChatFinishReason;
  /** per-token log-probs, when requested and available */
  logProbs?: TokenLogProb[];
}

/**
 * The small model interface every backend implements (OpenAI-compatible HTTP, a local policy,
 * programmatic fakes). `specificationVersion` lets the shape evolve (vercel/ai's `LanguageModelV1`).
 */
export interface ChatModel {
  /** version of this interface the implementation speaks */
  readonly specificationVersion: 'v1';
  /** model name sent to / reported by the backend */
  readonly modelId: string;
  /** endpoint identity used for per-endpoint concurrency limits and cost tables (e.g. the base URL) */
  readonly endpoint: string;
  /** generate one assistant turn */
  generate(messages: ChatMessage[], options?: ChatGenerateOptions, signal?: AbortSignal): Promise<ChatResult>;
}
