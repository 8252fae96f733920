import { AipoError } from '@aipo/core';
import OpenAI from 'openai';
import { assertSettings } from '../model/openai-chat-model';
import { classifyOpenAIError, toModelError } from '../model/openai-errors';
import { retryWithBackoff } from '../model/retry-with-backoff';
import { findFirstStop } from '../model/stop-matcher';
import { shortestPrefixCovering } from './shortest-prefix-covering';
import type { TokenPolicy, TokenPolicyOutput, TokenPolicyRequest } from './token-policy';

/** Settings for {@link createCompletionsTokenPolicy}. */
export interface CompletionsTokenPolicySettings {
  /** e.g. `http://127.0.0.1:8000/v1` (a vLLM server with the policy's weights) */
  baseURL: string;
  /** API key; local servers accept any string */
  apiKey?: string;
  /** served model name */
  model: string;
  /** the policy's tokenizer (the same one the server uses) */
  tokenizer: { encode(text: string): number[]; decode(tokenIds: number[]): string };
  /** per-attempt deadline in ms (default 300 000: a long rollout segment) */
  timeoutMs?: number;
  /** retries on 408/409/429/5xx and connection errors (default 4) */
  maxRetries?: number;
  /** first backoff delay in ms (default 500) */
  baseDelayMs?: number;
  /** stream tokens over SSE and stop client-side at the first stop string (default false) */
  stream?: boolean;
}

interface TokenChunk {
  tokenIds: number[];
  logProbs: number[];
  finishReason: string | null | undefined;
}

/**
 * A {@link TokenPolicy} served over a vLLM-style `/v1/completions` endpoint: the context is sent
 * as token ids and the reply comes back as token ids (`return_tokens_as_token_ids`) with their
 * log-probs, so the trajectory is exact at token level (ecosystem.md §4: vLLM returns ids as
 * `token_id:N` strings). Servers that cannot return token ids are rejected with API_ERROR rather
 * than re-tokenised, since re-tokenised text would not carry the sampler's log-probs.
 */
export function createCompletionsTokenPolicy(settings: CompletionsTokenPolicySettings): TokenPolicy {
  const {
    baseURL,
    model,
    tokenizer,
    timeoutMs = 300_000,
    maxRetries = 4,
    baseDelayMs = 500,
    stream = false,
  } = settings;
  assertSettings({ timeoutMs, maxRetries, baseDelayMs });
  const client = new OpenAI({ baseURL, apiKey: settings.apiKey ?? 'EMPTY', maxRetries: 0, timeout: timeoutMs });

  function body(request: TokenPolicyRequest) {
    return {
      model,
      prompt: request.context,
      max_tokens: request.maxTokens,
      logprobs: 1,
      ...(request.temperature !== undefined && { temperature: request.temperature }),
      ...(request.topP !== undefined && { top_p: request.topP }),
      ...(request.seed !== undefined && { seed: request.seed }),
      ...(request.stop !== undefined && request.stop.length > 0 && { stop: request.stop }),
      // vLLM extensions, sent in the body as-is (the SDK does no validation)
      ...(request.topK !== undefined && { top_k: request.topK }),
      ...(request.stopTokenIds !== undefined && { stop_token_ids: request.stopTokenIds }),
      return_tokens_as_token_ids: true,
      include_stop_str_in_output: true,
    };
  }

  async function once(request: TokenPolicyRequest, signal: AbortSignal | undefined): Promise<TokenPolicyOutput> {
    const chunks: TokenChunk[] = [];
    if (!stream) {
      const response = await client.completions.create(
        { ...body(request), stream: false } as OpenAI.CompletionCreateParamsNonStreaming,
        {
          signal: signal ?? null,
        },
      );
      const choice = response.choices?.[0];
      chunks.push(readChoice(choice));
      return finish(chunks, request);
    }
    const events = await client.completions.create(
      { ...body(request), stream: true } as OpenAI.CompletionCreateParamsStreaming,
      {
        signal: signal ?? null,
      },
    );
    let text = '';
    for await (const event of events) {
      const chunk = readChoice(event.choices?.[0]);
      chunks.push(chunk);
      text += tokenizer.decode(chunk.tokenIds);
      // Stop as soon as a stop string is complete, even when it is split across chunks.
      if (request.stop && findFirstStop(text, request.stop, Math.max(0, text.length - 256)) !== undefined) {
        events.controller.abort();
        break;
      }
    }
    if (signal?.aborted) throw new OpenAI.APIUserAbortError();
    return finish(chunks, request);
  }

  function finish(chunks: TokenChunk[], request: TokenPolicyRequest): TokenPolicyOutput {
    let tokenIds = chunks.flatMap((chunk) => chunk.tokenIds);
    let logProbs = chunks.flatMap((chunk) => chunk.logProbs);
    const stops = request.stop ?? [];
    const match = stops.length > 0 ? findFirstStop(tokenizer.decode(tokenIds), stops) : undefined;
    if (match !== undefined) {
      // keep the shortest token prefix whose text holds the stop string (the server may run past it)
      const count = shortestPrefixCovering({ tokenIds, decode: tokenizer.decode, length: match.text.length });
      tokenIds = tokenIds.slice(0, count);
      logProbs = logProbs.slice(0, count);
      return { tokenIds, logProbs, text: tokenizer.decode(tokenIds), finishReason: 'stop', stop: match.stop };
    }
    const last = tokenIds.at(-1);
    const stoppedByToken = last !== undefined && (request.stopTokenIds ?? []).includes(last);
    const reason = chunks.findLast((chunk) => chunk.finishReason)?.finishReason;
    const finishReason =
      stoppedByToken || (reason === 'stop' && tokenIds.length < request.maxTokens) ? 'stop' : 'length';
    return { tokenIds, logProbs, text: tokenizer.decode(tokenIds), finishReason };
  }

  function readChoice(choice: OpenAI.CompletionChoice | undefined): TokenChunk {
    const tokens = choice?.logprobs?.tokens ?? [];
    const values = choice?.logprobs?.token_logprobs ?? [];
    const tokenIds = tokens.map((token) => {
      const match = /^token_id:(\d+)$/.exec(token);
      if (!match) {
        throw new AipoError({
          code: 'API_ERROR',
          message: `${model} at ${baseURL} returned token "${token.slice(0, 40)}" instead of "token_id:N"; the server must support return_tokens_as_token_ids (vLLM)`,
        });
      }
      return Number(match[1]);
    });
    if (
      values.length !== tokenIds.length ||
      values.some((value) => typeof value !== 'number' || !Number.isFinite(value))
    ) {
      throw new AipoError({
        code: 'API_ERROR',
        message: `${model} at ${baseURL} returned no finite log-prob for every token`,
      });
    }
    return { tokenIds, logProbs: values, finishReason: choice?.finish_reason };
  }

  return {
    modelId: model,
    encode: (text) => tokenizer.encode(text),
    decode: (tokenIds) => tokenizer.decode(tokenIds),
    async generate(request, signal) {
      try {
        const { value } = await retryWithBackoff({
          run: () => once(request, signal),
          maxRetries,
          baseDelayMs,
          maxDelayMs: 30_000,
          classify: classifyOpenAIError,
          ...(signal && { signal }),
        });
        return value;
      } catch (error) {
        throw toModelError(error, { baseURL, model, signal });
      }
    },
  };
}
