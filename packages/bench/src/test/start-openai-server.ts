import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the scripted server sees of one request. */
export interface ScriptedRequest {
  /** the parsed JSON body */
  body: Record<string, unknown>;
  /** the last user message (chat) or the prompt (completions) */
  prompt: string;
  seed: number | undefined;
  /** 1 for the first request with this prompt and seed, 2 for its first retry, ... */
  attempt: number;
}

/** A normal reply, or a fault to inject. */
export type ScriptedReply =
  | { kind: 'reply'; content: string | null; finishReason?: string; completionTokens?: number }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string; contentType?: string }
  | { kind: 'stall' }
  | { kind: 'truncated' }
  | { kind: 'reset' };

export interface OpenAiServer {
  /** base URL ending in /v1 */
  url: string;
  /** requests received, by kind of reply sent */
  stats: Record<ScriptedReply['kind'], number>;
  /** how many requests each (prompt, seed) received */
  attempts: Map<string, number>;
  close(): Promise<void>;
}

/**
 * A real OpenAI-compatible HTTP server on 127.0.0.1 whose replies come from a script: recorded
 * generations, or faults (429 with any Retry-After style, 5xx, HTML pages, stalls, truncated JSON,
 * connection resets). Tests, the e2e suite and the harness benchmark all use it.
 */
export async function startOpenAiServer({ respond, delayMs = 0 }: { respond: (request: ScriptedRequest) => ScriptedReply; delayMs?: number }): Promise<OpenAiServer> {
  const stats: OpenAiServer['stats'] = { reply: 0, status: 0, stall: 0, truncated: 0, reset: 0 };
  const attempts = new Map<string, number>();
  const stalled = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    void handle(request, response);
  });
  server.keepAliveTimeout = 60_000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"bad json"}}');
      return;
    }
    const isChat = request.url?.endsWith('/chat/completions') ?? false;
    const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role: string; content: string }>) : [];
    const prompt = isChat ? (messages.filter((message) => message.role === 'user').at(-1)?.content ?? '') : String(body.prompt ?? '');
    const seed = typeof body.seed === 'number' ? body.seed : undefined;
    const key = `${seed}\u0000${prompt}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    const reply = respond({ body, prompt, seed, attempt });
    stats[reply.kind]++;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    switch (reply.kind) {
      case 'reply': {
        const completionTokens = reply.completionTokens ?? Math.ceil((reply.content ?? '').length / 4);
        const usage = { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: completionTokens, total_tokens: Math.ceil(prompt.length / 4) + completionTokens };
        const choice = isChat
          ? { index: 0, message: { role: 'assistant', content: reply.content }, finish_reason: reply.finishReason ?? 'stop' }
          : { index: 0, text: reply.content, finish_reason: reply.finishReason ?? 'stop' };
        const payload = { id: `cmpl-${attempt}`, object: isChat ? 'chat.completion' : 'text_completion', created: 0, model: body.model, choices: [choice], usage, system_fingerprint: 'fp_scripted' };
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
        return;
      }
      case 'status':
        response.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json', ...reply.headers });
        response.end(reply.body ?? JSON.stringify({ error: { message: `scripted ${reply.status}`, type: 'scripted' } }));
        return;
      case 'stall':
        // Headers, then nothing: only a client-side deadline on the whole body gets out of this.
        response.writeHead(200, { 'content-type': 'application/json' });
        response.write('{"id":"stalled",');
        stalled.add(response);
        return;
      case 'truncated':
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"x","object":"chat.completion","choices":[{"index":0,"mess');
        return;
      case 'reset':
        request.socket.destroy();
        return;
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    stats,
    attempts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of stalled) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
