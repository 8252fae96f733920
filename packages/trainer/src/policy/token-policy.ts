import { AipoError } from '@aipo/core';
import type { CausalLM } from '../model/causal-lm';
import { createBatchScheduler, type BatchScheduler } from '../sampling/batch-scheduler';
import type { TokenPolicy } from '@aipo/agents';
import type { ChatMessage, TextTokenizer } from '../tokenizer/load-tokenizer';

// The interface is defined by @aipo/agents (the consumer); the trainer implements it.
export type {
  TokenPolicy,
  TokenPolicyOutput as TokenGenerateResult,
  TokenPolicyRequest as TokenGenerateRequest,
} from '@aipo/agents';

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

/** A TokenPolicy over a trainer model; `dispose` frees what it owns. */
export type DisposableTokenPolicy = TokenPolicy & {
  /**
   * Reject pending and later calls (ABORTED) and free the kept sequences of the scheduler this
   * policy created; a scheduler passed in belongs to its owner and is left running.
   */
  dispose(): void;
};

/** Wrap a model + tokenizer as a TokenPolicy; concurrent `generate` calls are batched. */
export function createTokenPolicy({ model, tokenizer, modelId = model.config.modelType, scheduler }: CreateTokenPolicyOptions): DisposableTokenPolicy {
  const decode = (tokenIds: number[]) => tokenizer.decode(tokenIds);
  const batcher = scheduler ?? createBatchScheduler({ model, decode });
  const eos = [...new Set([...model.config.eosTokenIds, ...tokenizer.eosTokenIds])];
  let disposed = false;
  const policy: DisposableTokenPolicy = {
    modelId,
    encode: (text) => tokenizer.encode(text),
    decode,
    async generate(request, signal) {
      if (disposed) throw new AipoError({ code: 'ABORTED', message: 'the token policy was disposed' });
      const result = await batcher.submit({ ...request, stopTokenIds: [...(request.stopTokenIds ?? []), ...eos] }, signal);
      return result;
    },
    dispose() {
      disposed = true;
      if (scheduler === undefined) batcher.dispose();
    },
  };
  const applyChatTemplate = tokenizer.applyChatTemplate;
  if (applyChatTemplate !== undefined) {
    policy.applyChatTemplate = (messages: ChatMessage[], options) => applyChatTemplate(messages, options);
  }
  return policy;
}
