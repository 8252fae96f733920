import { AipoError } from '@aipo/core';
import OpenAI, { APIError, APIUserAbortError } from 'openai';
import { z } from 'zod';
import type { ChatMessage } from '../benchmark';
import { applyChatTemplate } from '../prompts/apply-chat-template';
import { AdaptiveLimiter, sleep } from './adaptive-limiter';
import { createHttpFetch } from './create-http-fetch';
import { backoffDelay, classifyStatus, type FailureKind, retryAfterMs } from './retry-policy';

/** Sampling settings sent with every request (pinned explicitly: vLLM otherwise applies generation_config defaults). */
export interface SamplingSettings {
  /** softmax temperature */
  temperature?: number;
  /** nucleus sampling mass */
  topP?: number;
  /** completion token budget */
  maxTokens?: number;
  /** stop sequences */
  stop?: string[];
  /** extra body fields for OpenAI-compatible servers (vLLM `top_k`, `min_p`, ...) */
  extraBody?: Record<string, unknown>;
}

export interface SamplerOptions {
  /** OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 */
  baseURL: string;
  /** model name sent in the body */
  model: string;
  /** bearer key (default `OPENAI_API_KEY` or "EMPTY" for local servers) */
  apiKey?: string;
  /** per-attempt deadline covering headers and body (default 300 000 ms, reliability.md §3) */
  timeoutMs?: number;
  /** attempts per sample before it is recorded as an API error (default 8) */
  maxAttempts?: number;
  /** concurrency ceiling; AIMD halves it on 429 (default 8) */
  concurrency?: number;
  /** base of the jittered exponential backoff (default 500 ms) */
  backoffBaseMs?: number;
  /** cap on any single wait, hinted or not (default 60 000 ms) */
  maxWaitMs?: number;
  /** `chat` (default) or `completion` with a Jinja chat template rendered locally */
  mode?: 'chat' | 'completion';
  /** the chat template for `completion` mode */
  chatTemplate?: string;
  /** inject fetch (default: a keep-alive node:http fetch, see createHttpFetch) */
  fetch?: typeof fetch;
  /** cap on one response body (default 64 MiB); larger replies are transient failures */
  maxResponseBytes?: number;
}

export interface SampleRequest {
  messages: ChatMessage[];
  sampling: SamplingSettings;
  /** per-sample seed (best effort on most servers; recorded either way) */
  seed: number;
  signal?: AbortSignal;
}

/** A model reply, or why there is none. Errors are never graded. */
export type SampleOutcome =
  | {
      status: 'ok';
      text: string;
      /** the server returned `content: null` (reasoning models); text is then "" and the sample still counts */
      nullContent: boolean;
      finishReason: string | null;
      usage: { promptTokens: number; completionTokens: number } | null;
      systemFingerprint: string | null;
      latencyMs: number;
      attempts: number;
    }
  | {
      status: 'error';
      error: { kind: FailureKind; message: string; httpStatus?: number };
      latencyMs: number;
      attempts: number;
    };

const usageSchema = z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullish();
const chatSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullish() }), finish_reason: z.string().nullish() })).min(1),
  usage: usageSchema,
  system_fingerprint: z.string().nullish(),
});
const completionSchema = z.object({
  choices: z.array(z.object({ text: z.string().nullish(), finish_reason: z.string().nullish() })).min(1),
  usage: usageSchema,
  system_fingerprint: z.string().nullish(),
});

/** An error's message with its causes (the openai client wraps fetch failures as "Connection error."). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error; current !== undefined && parts.length < 4; current = (current as { cause?: unknown }).cause) {
    parts.push(current instanceof Error ? current.message : String(current));
    if (!(current instanceof Error)) break;
  }
  return parts.join(': ');
}

class AttemptError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly httpStatus?: number,
    readonly waitMs?: number,
  ) {
    super(message);
  }
}

export interface Sampler {
  readonly limiter: AdaptiveLimiter;
  sample(request: SampleRequest): Promise<SampleOutcome>;
}

/**
 * Sample completions from any OpenAI-compatible endpoint through the `openai` client, with the
 * client's own retries off: this loop owns retries so it can honour every Retry-After style,
 * drive the AIMD limiter and record attempts (reliability.md §3, §4.4 A1-A5).
 */
export function createSampler(options: SamplerOptions): Sampler {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const maxAttempts = options.maxAttempts ?? 8;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const mode = options.mode ?? 'chat';
  if (mode === 'completion' && options.chatTemplate === undefined) {
    throw new AipoError({ code: 'INVALID_CONFIG', message: 'completion mode needs a chatTemplate (the model\'s Jinja template)' });
  }
  const client = new OpenAI({
    baseURL: options.baseURL,
    apiKey: options.apiKey ?? process.env.OPENAI_API_KEY ?? 'EMPTY',
    maxRetries: 0,
    timeout: timeoutMs,
    // The client's own request logging costs CPU on every call; OPENAI_LOG still turns it on.
    ...(process.env.OPENAI_LOG ? {} : { logLevel: 'off' as const }),
    fetch: options.fetch ?? createHttpFetch({ maxSockets: Math.max(16, 2 * (options.concurrency ?? 8)), ...(options.maxResponseBytes === undefined ? {} : { maxResponseBytes: options.maxResponseBytes }) }),
  });
  const limiter = new AdaptiveLimiter({ maxConcurrency: options.concurrency ?? 8 });

  async function attempt(request: SampleRequest): Promise<Omit<Extract<SampleOutcome, { status: 'ok' }>, 'latencyMs' | 'attempts' | 'status'>> {
    // One controller per attempt, linked to the caller's signal by hand: AbortSignal.any and
    // AbortSignal.timeout cost a lot per request and keep dependants alive on a long-lived parent.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = (): void => controller.abort(request.signal?.reason);
    request.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await send(request, controller.signal, () => timedOut);
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  async function send(request: SampleRequest, signal: AbortSignal, timedOut: () => boolean): Promise<Omit<Extract<SampleOutcome, { status: 'ok' }>, 'latencyMs' | 'attempts' | 'status'>> {
    const { temperature, topP, maxTokens, stop, extraBody } = request.sampling;
    const common = {
      model: options.model,
      ...(temperature === undefined ? {} : { temperature }),
      ...(topP === undefined ? {} : { top_p: topP }),
      ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
      ...(stop === undefined ? {} : { stop }),
      seed: request.seed,
      ...extraBody,
    };
    let raw: unknown;
    try {
      raw =
        mode === 'chat'
          ? await client.chat.completions.create({ ...common, messages: request.messages, stream: false }, { signal })
          : await client.completions.create(
              { ...common, prompt: applyChatTemplate({ template: options.chatTemplate as string, messages: request.messages }), stream: false },
              { signal },
            );
    } catch (error) {
      if (request.signal?.aborted) throw error;
      if (error instanceof APIUserAbortError || timedOut()) throw new AttemptError('transient', `no complete reply within ${timeoutMs} ms`);
      if (error instanceof APIError && error.status !== undefined) {
        const kind = classifyStatus(error.status);
        throw new AttemptError(kind, error.message.slice(0, 500), error.status, retryAfterMs(error.headers));
      }
      // connection resets, truncated or non-JSON bodies: no usable reply, so retry (A3)
      throw new AttemptError('transient', describe(error).slice(0, 500));
    }
    if (mode === 'chat') {
      const parsed = chatSchema.safeParse(raw);
      if (!parsed.success) throw new AttemptError('transient', 'the reply is not a chat completion (HTML page or truncated body?)');
      const choice = parsed.data.choices[0];
      const content = choice?.message.content;
      return {
        text: content ?? '',
        nullContent: content == null,
        finishReason: choice?.finish_reason ?? null,
        usage: parsed.data.usage ? { promptTokens: parsed.data.usage.prompt_tokens, completionTokens: parsed.data.usage.completion_tokens } : null,
        systemFingerprint: parsed.data.system_fingerprint ?? null,
      };
    }
    const parsed = completionSchema.safeParse(raw);
    if (!parsed.success) throw new AttemptError('transient', 'the reply is not a completion (HTML page or truncated body?)');
    const choice = parsed.data.choices[0];
    return {
      text: choice?.text ?? '',
      nullContent: choice?.text == null,
      finishReason: choice?.finish_reason ?? null,
      usage: parsed.data.usage ? { promptTokens: parsed.data.usage.prompt_tokens, completionTokens: parsed.data.usage.completion_tokens } : null,
      systemFingerprint: parsed.data.system_fingerprint ?? null,
    };
  }

  async function sample(request: SampleRequest): Promise<SampleOutcome> {
    const started = performance.now();
    const baseMs = options.backoffBaseMs ?? 500;
    let last: AttemptError | undefined;
    let made = 0;
    try {
      while (made < maxAttempts) {
        await limiter.acquire(request.signal);
        made++;
        try {
          const reply = await attempt(request);
          limiter.onSuccess();
          return { status: 'ok', ...reply, latencyMs: performance.now() - started, attempts: made };
        } catch (error) {
          if (!(error instanceof AttemptError)) throw error;
          last = error;
          if (error.kind === 'rate-limited') limiter.onRateLimited(Math.min(maxWaitMs, error.waitMs ?? backoffDelay({ attempt: made - 1, baseMs })));
        } finally {
          limiter.release();
        }
        if (last.kind === 'permanent') break;
        // A rate limit already paused the limiter for everyone; transient failures back off alone.
        if (last.kind === 'transient' && made < maxAttempts) {
          await sleep(Math.min(maxWaitMs, last.waitMs ?? backoffDelay({ attempt: made - 1, baseMs })), request.signal);
        }
      }
    } catch (error) {
      throw new AipoError({ code: 'ABORTED', message: 'sampling aborted', cause: error });
    }
    const error = last as AttemptError;
    return {
      status: 'error',
      error: { kind: error.kind, message: error.message, ...(error.httpStatus === undefined ? {} : { httpStatus: error.httpStatus }) },
      latencyMs: performance.now() - started,
      attempts: made,
    };
  }

  return { limiter, sample };
}
