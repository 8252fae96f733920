import type { CausalLM } from '../model/causal-lm';
import { createBatchScheduler, type BatchScheduler } from '../sampling/batch-scheduler';
import type { ChatMessage, TextTokenizer } from '../tokenizer/load-tokenizer';

/** Sampling request of the TokenPolicy interface (@aipo/agents' structural shape). */
export interface TokenGenerateRequest {
  /** token context to continue */
  context: number[];
  /** most new tokens */
  maxTokens: number;
  /** default 1; 0 = greedy */
  temperature?: number;
  /** nucleus mass */
  topP?: number;
  /** top-k */
  topK?: number;
  /** stop strings (kept in the output) */
  stop?: string[];
  /** stop token ids (kept in the output); the model's EOS ids always stop too */
  stopTokenIds?: number[];
  /** PRNG seed */
  seed?: number;
}

/** Result of TokenPolicy.generate. */
export interface TokenGenerateResult {
  /** sampled ids, stop included */
  tokenIds: number[];
  /** log π of each sampled id */
  logProbs: number[];
  /** decoded sampled ids */
  text: string;
  /** stop string/token, or maxTokens */
  finishReason: 'stop' | 'length';
  /** the stop string that matched */
  stop?: string;
}

/**
 * A token-level policy: the structural interface @aipo/agents consumes (defined there; not imported,
 * to keep the dependency graph acyclic). Pause/resume: generation stops at a stop string (for example
 * a closing tag), the caller appends agent tokens to `context` and calls `generate` again to
 * continue the same sequence.
 */
export interface TokenPolicy {
  readonly modelId: string;
  encode(text: string): number[];
  decode(tokenIds: number[]): string;
  generate(request: TokenGenerateRequest, signal?: AbortSignal): Promise<TokenGenerateResult>;
  applyChatTemplate?(messages: Array<{ role: string; content: string }>, options?: { addGenerationPrompt?: boolean }): string;
}

export interface CreateTokenPolicyOptions {
  /** the model to sample from */
  model: CausalLM;
  /** its tokenizer */
  tokenizer: TextTokenizer;
  /** reported as `modelId` (default: the config's model_type) */
  modelId?: string;
  /** share a scheduler (e.g. with a server) so all callers batch together */
  scheduler?: BatchScheduler;
}

/** Wrap a model + tokenizer as a TokenPolicy; concurrent `generate` calls are batched. */
export function createTokenPolicy({ model, tokenizer, modelId = model.config.modelType, scheduler }: CreateTokenPolicyOptions): TokenPolicy {
  const decode = (tokenIds: number[]) => tokenizer.decode(tokenIds);
  const batcher = scheduler ?? createBatchScheduler({ model, decode });
  const eos = [...new Set([...model.config.eosTokenIds, ...tokenizer.eosTokenIds])];
  const policy: TokenPolicy = {
    modelId,
    encode: (text) => tokenizer.encode(text),
    decode,
    async generate(request, signal) {
      const result = await batcher.submit({ ...request, stopTokenIds: [...(request.stopTokenIds ?? []), ...eos] }, signal);
      return result;
    },
  };
  const applyChatTemplate = tokenizer.applyChatTemplate;
  if (applyChatTemplate !== undefined) {
    policy.applyChatTemplate = (messages: ChatMessage[], options) => applyChatTemplate(messages, options);
  }
  return policy;
}
