import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { AipoError } from '@aipo/core';
import type { z } from 'zod';
import type { BackendChoice, BackendName } from '../backend/select-backend';
import type { CausalLM } from '../model/causal-lm';
import { loadPolicy } from '../policy/load-policy';
import { createBatchScheduler, type BatchScheduler, type BatchSchedulerStats } from '../sampling/batch-scheduler';
import type { GenerationResult } from '../sampling/generate';
import type { TextTokenizer } from '../tokenizer/load-tokenizer';
import { chatRequestSchema, completionRequestSchema } from './openai-schemas';

/** A model + tokenizer to serve. */
export interface ServablePolicy {
  /** the network */
  model: CausalLM;
  /** its tokenizer (chat requests need a chat template) */
  tokenizer: TextTokenizer;
  /** the id clients send as `model` */
  modelId?: string;
}

export interface StartServerOptions {
  /** serve this model folder (loads it; the backend is selected first) */
  modelDir?: string;
  /** or serve an already loaded policy */
  policy?: ServablePolicy;
  /** interface to bind (default 127.0.0.1) */
  host?: string;
  /** port (default 0 = any free port; read `url`) */
  port?: number;
  /** backend when loading `modelDir` (default auto) */
  backend?: BackendName | 'auto';
  /** most sequences per model batch (default 32) */
  maxBatchSize?: number;
  /** default `max_tokens` when a request has none (default 256) */
  defaultMaxTokens?: number;
  /** wait this long for companions before starting a batch from an idle model (default 5 ms) */
  batchWindowMs?: number;
  /** finished sequences whose KV cache is kept for continuations (default 16; see createBatchScheduler) */
  keptSequences?: number;
}

export interface RunningServer {
  /** base URL, e.g. http://127.0.0.1:41234 (clients use `${url}/v1`) */
  url: string;
  /** served model id */
  modelId: string;
  /** backend choice when the server loaded the model itself */
  backend: BackendChoice | undefined;
  /** scheduler counters: busy periods, requests, decode steps, continuous-batching joins, cached tokens */
  stats(): BatchSchedulerStats;
  /** stop accepting connections and free a model the server loaded */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

const MAX_BODY_BYTES = 8 * 2 ** 20;

/**
 * An OpenAI-compatible HTTP server over a policy (`/v1/models`, `/v1/completions`,
 * `/v1/chat/completions`, SSE streaming, logprobs, n, stop, seed), so @aipo/bench and
 * @aipo/agents talk to a trained policy exactly as to vLLM. Concurrent requests are batched
 * continuously (createBatchScheduler): they join the running decode at step boundaries. The CLI's `aipo serve --model DIR` is `startServer({ modelDir: DIR, port })`.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { host = '127.0.0.1', port = 0, backend = 'auto', maxBatchSize = 32, defaultMaxTokens = 256, batchWindowMs = 5, keptSequences = 16 } = options;
  if ((options.modelDir === undefined) === (options.policy === undefined)) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'startServer needs exactly one of modelDir or policy' });
  }
  let served: ServablePolicy & { modelId: string };
  let choice: BackendChoice | undefined;
  let owned: { dispose(): void } | undefined;
  if (options.modelDir !== undefined) {
    const loaded = await loadPolicy({ modelDir: options.modelDir, backend });
    served = { model: loaded.model, tokenizer: loaded.tokenizer, modelId: loaded.modelId };
    choice = loaded.backend;
    owned = loaded;
  } else {
    const policy = options.policy!;
    served = { ...policy, modelId: policy.modelId ?? policy.model.config.modelType };
  }
  const { model, tokenizer, modelId } = served;
  let scheduler: BatchScheduler;
  try {
    scheduler = createBatchScheduler({ model, decode: (ids) => tokenizer.decode(ids), maxBatchSize, batchWindowMs, keptSequences });
  } catch (error) {
    owned?.dispose();
    throw error;
  }
  const eos = [...new Set([...model.config.eosTokenIds, ...tokenizer.eosTokenIds])];
  const context: HandlerContext = { model, tokenizer, modelId, scheduler, eos, defaultMaxTokens };

  const server = createServer((request, response) => {
    handle(context, request, response).catch((error: unknown) => sendError(response, error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause) => reject(new AipoError({ code: 'IO_ERROR', message: `cannot listen on ${host}:${port}`, cause })));
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    modelId,
    backend: choice,
    stats: () => scheduler.stats(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          scheduler.dispose();
          owned?.dispose();
          resolve();
        });
      }),
  };
}

interface HandlerContext {
  model: CausalLM;
  tokenizer: TextTokenizer;
  modelId: string;
  scheduler: BatchScheduler;
  eos: number[];
  defaultMaxTokens: number;
}

async function handle(context: HandlerContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?')[0]!.replace(/\/+$/, '');
  const routes: Record<string, { method: string; run: () => Promise<void> }> = {
    '/v1/models': { method: 'GET', run: async () => sendJson(response, 200, { object: 'list', data: [modelCard(context.modelId)] }) },
    '/v1/completions': { method: 'POST', run: async () => completions(context, parse(completionRequestSchema, await readBody(request)), request, response) },
    '/v1/chat/completions': { method: 'POST', run: async () => chatCompletions(context, parse(chatRequestSchema, await readBody(request)), request, response) },
  };
  if (path.startsWith('/v1/models/') && request.method === 'GET') {
    const id = decodeURIComponent(path.slice('/v1/models/'.length));
    if (id !== context.modelId) throw modelNotFound(id);
    return sendJson(response, 200, modelCard(context.modelId));
  }
  const route = routes[path];
  if (route === undefined) throw new HttpError(404, `Unknown route ${request.method} ${path}`, 'invalid_request_error', null, 'not_found');
  if (request.method !== route.method) throw new HttpError(405, `Method ${request.method} not allowed on ${path}`, 'invalid_request_error', null, 'method_not_allowed');
  await route.run();
}

function modelCard(id: string) {
  return { id, object: 'model', created: 0, owned_by: 'aipo' };
}

function modelNotFound(id: string): HttpError {
  return new HttpError(404, `The model \`${id}\` does not exist.`, 'invalid_request_error', 'model', 'model_not_found');
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `Request body exceeds ${MAX_BODY_BYTES} bytes`, 'invalid_request_error');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'Request body is not valid JSON', 'invalid_request_error');
  }
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.join('.') || null;
  throw new HttpError(400, `Invalid request: ${param ?? 'body'}: ${issue.message}`, 'invalid_request_error', param);
}

interface Sampling {
  model: string;
  temperature?: number | null | undefined;
  top_p?: number | null | undefined;
  top_k?: number | null | undefined;
  n?: number | null | undefined;
  stop?: string | string[] | null | undefined;
  seed?: number | null | undefined;
  stream?: boolean | null | undefined;
}

interface Choice {
  index: number;
  result: GenerationResult;
  /** OpenAI text: special tokens dropped, the stop string cut off */
  text: string;
  /** tokens that make up `text` (the EOS / stop-token excluded) */
  visible: number[];
}

/** Run n samples of one prompt; stream deltas via `onDelta` as tokens arrive. */
async function sample(options: {
  context: HandlerContext;
  prompt: number[];
  body: Sampling;
  maxTokens: number;
  signal: AbortSignal;
  /** alternatives to return per sampled token (top_logprobs) */
  topLogProbs: number;
  onDelta?: (index: number, delta: string, tokenIds: number[]) => void;
}): Promise<Choice[]> {
  const { context, prompt, body, maxTokens, signal, topLogProbs, onDelta } = options;
  if (body.model !== context.modelId) throw modelNotFound(body.model);
  if (prompt.length === 0) throw new HttpError(400, 'The prompt is empty', 'invalid_request_error', 'prompt');
  if (prompt.length >= context.model.config.maxPositions) {
    throw new HttpError(400, `The prompt has ${prompt.length} tokens; this model's maximum context length is ${context.model.config.maxPositions}`, 'invalid_request_error', 'prompt', 'context_length_exceeded');
  }
  const stops = body.stop === undefined || body.stop === null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  const holdBack = Math.max(0, ...stops.map((s) => s.length - 1));
  const n = body.n ?? 1;
  const sent = new Array<number>(n).fill(0);
  const visibleText = (tokenIds: number[], stopHit: boolean) => {
    const ids = stopHit && tokenIds.length > 0 && context.eos.includes(tokenIds[tokenIds.length - 1]!) ? tokenIds.slice(0, -1) : tokenIds;
    return context.tokenizer.decode(ids, { skipSpecialTokens: true });
  };
  const requests = Array.from({ length: n }, (_, index) => {
    const tokenIds: number[] = [];
    return context.scheduler.submit(
      {
        context: prompt,
        maxTokens,
        temperature: body.temperature ?? 1,
        topP: body.top_p ?? undefined,
        topK: body.top_k === undefined || body.top_k === null || body.top_k < 0 ? undefined : body.top_k,
        stop: stops,
        stopTokenIds: context.eos,
        seed: body.seed === undefined || body.seed === null ? undefined : body.seed + index,
        topLogProbs,
        onToken: onDelta === undefined
          ? undefined
          : ({ tokenId, finishReason }) => {
              tokenIds.push(tokenId);
              // The last token is flushed after the stop string is cut off.
              if (finishReason !== undefined) return;
              const text = visibleText(tokenIds, false);
              // Hold back a possible stop-string prefix and an incomplete UTF-8 tail.
              let safe = text.length - holdBack;
              while (safe > sent[index]! && text.charCodeAt(safe - 1) === 0xfffd) safe--;
              if (safe > sent[index]!) {
                onDelta(index, text.slice(sent[index]!, safe), [tokenId]);
                sent[index] = safe;
              }
            },
      },
      signal,
    );
  });
  const results = await Promise.all(requests);
  return results.map((result, index) => {
    let text = visibleText(result.tokenIds, result.finishReason === 'stop' && result.stop === undefined);
    if (result.stop !== undefined) {
      const at = text.indexOf(result.stop);
      if (at !== -1) text = text.slice(0, at);
    }
    const visible = result.finishReason === 'stop' && result.stop === undefined ? result.tokenIds.slice(0, -1) : result.tokenIds;
    if (onDelta !== undefined && text.length > sent[index]!) onDelta(index, text.slice(sent[index]!), []);
    return { index, result, text, visible };
  });
}

function finishReason(choice: Choice): 'stop' | 'length' {
  return choice.result.finishReason;
}

function usage(promptTokens: number, choices: Choice[]) {
  const completion = choices.reduce((sum, choice) => sum + choice.result.tokenIds.length, 0);
  // The prompt is counted once; cached = prompt tokens whose KV cache a kept sequence supplied.
  const cached = Math.max(0, ...choices.map((choice) => Math.min(choice.result.cachedTokens, promptTokens)));
  return { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion, prompt_tokens_details: { cached_tokens: cached } };
}

async function completions(context: HandlerContext, body: z.infer<typeof completionRequestSchema>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  let prompt: number[];
  if (typeof body.prompt === 'string') prompt = context.tokenizer.encode(body.prompt);
  else if (body.prompt.every((item): item is number => typeof item === 'number')) prompt = body.prompt;
  else if (body.prompt.length === 1) prompt = context.tokenizer.encode(body.prompt[0] as string);
  else throw new HttpError(400, 'Batched prompts are not supported; send one prompt per request (they are batched server-side)', 'invalid_request_error', 'prompt');
  if (prompt.some((id) => id >= context.model.config.vocabSize)) throw new HttpError(400, 'Prompt token id outside the vocabulary', 'invalid_request_error', 'prompt');
  const maxTokens = body.max_tokens ?? 16;
  const topLogProbs = body.logprobs ?? 0;
  const logprobs = (choice: Choice) => {
    if (body.logprobs === undefined || body.logprobs === null) return null;
    const tokens = choice.visible.map((token) => context.tokenizer.decode([token]));
    const offsets: number[] = [];
    let offset = 0;
    for (const token of tokens) {
      offsets.push(offset);
      offset += token.length;
    }
    const values = choice.result.logProbs.slice(0, choice.visible.length);
    // Legacy completions format: per position a {token: logprob} map of the `logprobs` most likely
    // tokens plus the sampled one (as OpenAI and vLLM). Tokens that decode to the same text share a key.
    const top = tokens.map((token, i) => {
      const alternatives = (choice.result.topLogProbs?.[i] ?? []).map(({ tokenId, logProb }) => [context.tokenizer.decode([tokenId]), logProb] as const);
      const entries = new Map<string, number>();
      for (const [text, logProb] of alternatives) if (!entries.has(text)) entries.set(text, logProb);
      if (!entries.has(token)) entries.set(token, values[i]!);
      return Object.fromEntries(entries);
    });
    return { tokens, token_logprobs: values, top_logprobs: top, text_offset: offsets };
  };
  await respond({
    context,
    body,
    prompt,
    maxTokens,
    topLogProbs,
    request,
    response,
    shape: {
      id: `cmpl-${randomUUID()}`,
      object: 'text_completion',
      chunkObject: 'text_completion',
      delta: (index, text) => ({ index, text, logprobs: null, finish_reason: null }),
      finish: (choice) => ({ index: choice.index, text: '', logprobs: logprobs(choice), finish_reason: finishReason(choice) }),
      full: (choice) => ({ index: choice.index, text: choice.text, logprobs: logprobs(choice), finish_reason: finishReason(choice) }),
    },
  });
}

async function chatCompletions(context: HandlerContext, body: z.infer<typeof chatRequestSchema>, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (context.tokenizer.applyChatTemplate === undefined) {
    throw new HttpError(400, 'This model has no chat template (tokenizer_config.json chat_template); use /v1/completions', 'invalid_request_error', 'messages');
  }
  const messages = body.messages.map((message) => ({
    role: message.role === 'developer' ? 'system' : message.role,
    content: typeof message.content === 'string' ? message.content : (message.content ?? []).map((part) => part.text).join(''),
  }));
  const prompt = context.tokenizer.encode(context.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }));
  const maxTokens = body.max_completion_tokens ?? body.max_tokens ?? context.defaultMaxTokens;
  if ((body.top_logprobs ?? 0) > 0 && body.logprobs !== true) {
    throw new HttpError(400, 'logprobs must be true when top_logprobs is set', 'invalid_request_error', 'top_logprobs');
  }
  const topLogProbs = body.logprobs === true ? (body.top_logprobs ?? 0) : 0;
  const entry = (tokenId: number, logprob: number) => {
    const token = context.tokenizer.decode([tokenId]);
    return { token, logprob, bytes: [...new TextEncoder().encode(token)] };
  };
  // Chat format: per sampled token exactly `top_logprobs` alternatives, most likely first (OpenAI).
  const logprobs = (choice: Choice) =>
    body.logprobs === true
      ? {
          content: choice.visible.map((token, i) => ({
            ...entry(token, choice.result.logProbs[i]!),
            top_logprobs: (choice.result.topLogProbs?.[i] ?? []).map(({ tokenId, logProb }) => entry(tokenId, logProb)),
          })),
          refusal: null,
        }
      : null;
  await respond({
    context,
    body,
    prompt,
    maxTokens,
    topLogProbs,
    request,
    response,
    shape: {
      id: `chatcmpl-${randomUUID()}`,
      object: 'chat.completion',
      chunkObject: 'chat.completion.chunk',
      opening: (index) => ({ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }),
      delta: (index, text) => ({ index, delta: { content: text }, logprobs: null, finish_reason: null }),
      finish: (choice) => ({ index: choice.index, delta: {}, logprobs: logprobs(choice), finish_reason: finishReason(choice) }),
      full: (choice) => ({
        index: choice.index,
        message: { role: 'assistant', content: choice.text, refusal: null },
        logprobs: logprobs(choice),
        finish_reason: finishReason(choice),
      }),
    },
  });
}

/** How one endpoint shapes its choices (the envelope, streaming and usage are shared). */
interface ResponseShape {
  id: string;
  object: string;
  chunkObject: string;
  /** first streamed choice per index (chat sends the role) */
  opening?: (index: number) => unknown;
  /** a streamed text delta */
  delta: (index: number, text: string) => unknown;
  /** the last streamed choice (finish reason, logprobs) */
  finish: (choice: Choice) => unknown;
  /** a choice of the non-streaming body */
  full: (choice: Choice) => unknown;
}

async function respond(options: {
  context: HandlerContext;
  body: Sampling;
  prompt: number[];
  maxTokens: number;
  topLogProbs: number;
  request: IncomingMessage;
  response: ServerResponse;
  shape: ResponseShape;
}): Promise<void> {
  const { context, body, prompt, maxTokens, topLogProbs, request, response, shape } = options;
  const created = Math.floor(Date.now() / 1000);
  const abort = abortOnClose(request, response);
  const envelope = (object: string, choices: unknown[]) => ({ id: shape.id, object, created, model: context.modelId, choices });
  if (body.stream !== true) {
    const choices = await sample({ context, prompt, body, maxTokens, topLogProbs, signal: abort.signal });
    return sendJson(response, 200, { ...envelope(shape.object, choices.map(shape.full)), usage: usage(prompt.length, choices) });
  }
  startStream(response);
  const event = (choice: unknown) => writeEvent(response, envelope(shape.chunkObject, [choice]));
  if (shape.opening !== undefined) for (let index = 0; index < (body.n ?? 1); index++) event(shape.opening(index));
  const choices = await sample({ context, prompt, body, maxTokens, topLogProbs, signal: abort.signal, onDelta: (index, text) => event(shape.delta(index, text)) });
  for (const choice of choices) event(shape.finish(choice));
  endStream(response);
}

function abortOnClose(request: IncomingMessage, response: ServerResponse): AbortController {
  const controller = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) controller.abort(new Error('client disconnected'));
  });
  void request;
  return controller;
}

function startStream(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

function writeEvent(response: ServerResponse, data: unknown): void {
  if (!response.writableEnded) response.write(`data: ${JSON.stringify(data)}\n\n`);
}

function endStream(response: ServerResponse): void {
  if (!response.writableEnded) response.end('data: [DONE]\n\n');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function sendError(response: ServerResponse, error: unknown): void {
  let http: HttpError;
  if (error instanceof HttpError) http = error;
  else if (AipoError.isInstance(error) && error.code === 'INVALID_ARGUMENT') http = new HttpError(400, error.message, 'invalid_request_error');
  else if (AipoError.isInstance(error) && error.code === 'ABORTED') http = new HttpError(499, 'Client closed the request', 'invalid_request_error');
  else http = new HttpError(500, error instanceof Error ? error.message : String(error), 'server_error');
  const body = { error: { message: http.message, type: http.type, param: http.param, code: http.code } };
  if (response.headersSent) {
    // Mid-stream failure: report it as an SSE event, then close (as OpenAI-compatible servers do).
    writeEvent(response, body);
    endStream(response);
    return;
  }
  sendJson(response, http.status, body);
}
