import { AipoError } from '@aipo/core';
import OpenAI from 'openai';
import type {
  ChatFinishReason,
  ChatGenerateOptions,
  ChatMessage,
  ChatModel,
  ChatResult,
  TokenLogProb,
} from './chat-model';
import { classifyOpenAIError, toModelError } from './openai-errors';
import { retryWithBackoff } from './retry-with-backoff';
import { createStopMatcher } from './stop-matcher';

/** Settings for {@link createOpenAIChatModel}. */
export interface OpenAIChatModelSettings {
  /** e.g. `http://127.0.0.1:8000/v1` (vLLM, SGLang, Ollama, llama.cpp, or a hosted API) */
  baseURL: string;
  /** API key; local servers accept any string */
  apiKey?: string;
  /** model name to request */
  model: string;
  /** default sampling settings, overridden per call */
  defaults?: ChatGenerateOptions;
  /** per-attempt deadline in ms (default 120 000: the openai default of 10 min is too long for runs, ecosystem.md §4) */
  timeoutMs?: number;
  /** retries after the first attempt on 408/409/429/5xx and connection errors (default 4) */
  maxRetries?: number;
  /** first backoff delay in ms (default 500), doubled each retry with full jitter */
  baseDelayMs?: number;
  /** cap on a single wait, including Retry-After hints (default 30 000) */
  maxDelayMs?: number;
  /** stream the reply over SSE and detect stop strings client-side (default false) */
  stream?: boolean;
  /** abort a stream that sends nothing for this long (default: `timeoutMs`) */
  streamIdleTimeoutMs?: number;
  /** injected fetch (tests, proxies) */
  fetch?: typeof fetch;
  /** jitter source (default Math.random) */
  random?: () => number;
}

/**
 * A {@link ChatModel} over any OpenAI-compatible `/chat/completions` endpoint, built on the
 * `openai` package with its own retries disabled so that backoff, Retry-After handling and the
 * final error code are ours (reliability.md §3).
 */
export function createOpenAIChatModel(settings: OpenAIChatModelSettings): ChatModel {
  const {
    baseURL,
    model,
    timeoutMs = 120_000,
    maxRetries = 4,
    baseDelayMs = 500,
    maxDelayMs = 30_000,
    stream = false,
  } = settings;
  assertSettings({ timeoutMs, maxRetries, baseDelayMs, maxDelayMs });
  const client = new OpenAI({
    baseURL,
    apiKey: settings.apiKey ?? 'EMPTY',
    maxRetries: 0,
    timeout: timeoutMs,
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
  });

  async function attempt(
    messages: ChatMessage[],
    options: ChatGenerateOptions,
    signal: AbortSignal | undefined,
  ): Promise<ChatResult> {
    const body = {
      model,
      messages,
      ...(options.temperature !== undefined && { temperature: options.temperature }),
      ...(options.topP !== undefined && { top_p: options.topP }),
      ...(options.topK !== undefined && { top_k: options.topK }),
      ...(options.maxTokens !== undefined && { max_tokens: options.maxTokens }),
      ...(options.stop !== undefined && options.stop.length > 0 && { stop: options.stop }),
      ...(options.seed !== undefined && { seed: options.seed }),
      ...(options.logProbs && { logprobs: true }),
    };
    if (!stream) {
      const response = await client.chat.completions.create({ ...body, stream: false }, { signal: signal ?? null });
      const choice = response.choices?.[0];
      const text = choice?.message?.content ?? '';
      return {
        text: appendServerStop(text, stopReasonOf(choice), options.stop),
        usage: {
          promptTokens: response.usage?.prompt_tokens ?? 0,
          completionTokens: response.usage?.completion_tokens ?? 0,
        },
        finishReason: toFinishReason(choice?.finish_reason),
        ...(options.logProbs && { logProbs: toLogProbs(choice?.logprobs?.content) }),
      };
    }
    return streamOnce({ body, options, signal });
  }

  async function streamOnce({
    body,
    options,
    signal,
  }: {
    body: Record<string, unknown>;
    options: ChatGenerateOptions;
    signal: AbortSignal | undefined;
  }): Promise<ChatResult> {
    const idle = new AbortController();
    const combined = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal;
    const idleMs = settings.streamIdleTimeoutMs ?? timeoutMs;
    let timer = setTimeout(() => idle.abort(), idleMs);
    const matcher = createStopMatcher(options.stop ?? []);
    const logProbs: TokenLogProb[] = [];
    let finish: string | null | undefined;
    let usage = { promptTokens: 0, completionTokens: 0 };
    let matched: string | undefined;
    let stopReason: unknown;
    try {
      const chunks = await client.chat.completions.create(
        {
          ...(body as unknown as OpenAI.ChatCompletionCreateParamsStreaming),
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal: combined },
      );
      for await (const chunk of chunks) {
        clearTimeout(timer);
        timer = setTimeout(() => idle.abort(), idleMs);
        if (chunk.usage)
          usage = {
            promptTokens: chunk.usage.prompt_tokens ?? 0,
            completionTokens: chunk.usage.completion_tokens ?? 0,
          };
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        logProbs.push(...toLogProbs(choice.logprobs?.content));
        finish = choice.finish_reason ?? finish;
        stopReason = stopReasonOf(choice) ?? stopReason;
        const match = matcher.push(choice.delta?.content ?? '');
        if (match) {
          matched = match.text;
          // The stop string arrived (possibly split over chunks): stop reading, like a server-side stop.
          chunks.controller.abort();
          break;
        }
      }
    } catch (error) {
      if (idle.signal.aborted && !signal?.aborted) {
        throw new AipoError({
          code: 'TIMEOUT',
          message: `stream from ${baseURL} was idle for ${idleMs} ms`,
          cause: error,
        });
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
    // The SDK may end the iteration quietly on abort instead of throwing.
    if (matched === undefined && idle.signal.aborted && !signal?.aborted) {
      throw new AipoError({ code: 'TIMEOUT', message: `stream from ${baseURL} was idle for ${idleMs} ms` });
    }
    if (matched === undefined && signal?.aborted) throw new OpenAI.APIUserAbortError();
    if (matched !== undefined)
      return { text: matched, usage, finishReason: 'stop', ...(options.logProbs && { logProbs }) };
    return {
      text: appendServerStop(matcher.text, stopReason, options.stop),
      usage,
      finishReason: toFinishReason(finish),
      ...(options.logProbs && { logProbs }),
    };
  }

  return {
    specificationVersion: 'v1',
    modelId: model,
    endpoint: baseURL,
    async generate(messages, options = {}, signal) {
      const merged = { ...settings.defaults, ...options };
      try {
        const { value } = await retryWithBackoff({
          run: () => attempt(messages, merged, signal),
          maxRetries,
          baseDelayMs,
          maxDelayMs,
          classify: classifyOpenAIError,
          ...(signal && { signal }),
          ...(settings.random && { random: settings.random }),
        });
        return value;
      } catch (error) {
        throw toModelError(error, { baseURL, model, signal });
      }
    },
  };
}

function stopReasonOf(choice: object | undefined): unknown {
  return choice !== undefined && 'stop_reason' in choice ? choice.stop_reason : undefined;
}

function toFinishReason(reason: string | null | undefined): ChatFinishReason {
  if (reason === 'stop' || reason === 'length' || reason === 'content_filter') return reason;
  return reason === null || reason === undefined ? 'stop' : 'other';
}

function toLogProbs(content: Array<{ token: string; logprob: number }> | null | undefined): TokenLogProb[] {
  return (content ?? []).map((entry) => ({ token: entry.token, logProb: entry.logprob }));
}

/**
 * OpenAI-style servers drop the matched stop string from the text, but our contract keeps it (the
 * AIPO prototype appends `</query>` back). vLLM reports which string matched in the non-standard
 * `stop_reason` field; when it is one of ours we append it. Without that field an end-of-turn and
 * a stop-string match look the same, so the text is left as is.
 */
function appendServerStop(text: string, stopReason: unknown, stops: string[] | undefined): string {
  if (typeof stopReason !== 'string' || stops === undefined || !stops.includes(stopReason)) return text;
  return text.endsWith(stopReason) ? text : text + stopReason;
}

/** Reject settings that would hang (a zero or NaN deadline) or loop (negative retries) with INVALID_CONFIG. */
export function assertSettings(values: Record<string, number>): void {
  for (const [name, value] of Object.entries(values)) {
    const ok = name === 'maxRetries' ? Number.isInteger(value) && value >= 0 : Number.isFinite(value) && value > 0;
    if (!ok)
      throw new AipoError({
        code: 'INVALID_CONFIG',
        message: `${name} must be ${name === 'maxRetries' ? 'a non-negative integer' : 'a positive number'} (got ${value})`,
      });
  }
}
