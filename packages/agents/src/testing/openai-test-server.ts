import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted reply of the test server. */
export type ScriptedReply =
  | { kind: 'json'; status?: number; headers?: Record<string, string>; body: unknown }
  | { kind: 'sse'; chunks: unknown[]; delayMs?: number }
  | { kind: 'hang' };

/** A request the server received. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** A chat completion body in the OpenAI schema. */
export function completion(
  text: string,
  options: {
    finishReason?: string;
    logprobs?: Array<{ token: string; logprob: number }>;
    usage?: [number, number];
    stopReason?: string;
  } = {},
) {
  const [prompt, completionTokens] = options.usage ?? [10, 5];
  return {
    id: 'cmpl-test',
    object: 'chat.completion',
    created: 0,
    model: 'test-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text },
        finish_reason: options.finishReason ?? 'stop',
        ...(options.stopReason !== undefined && { stop_reason: options.stopReason }),
        logprobs: options.logprobs
          ? { content: options.logprobs.map((entry) => ({ ...entry, bytes: null, top_logprobs: [] })) }
          : null,
      },
    ],
    usage: { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens },
  };
}

/** SSE chunks that stream `pieces` one per chunk, then a usage chunk. */
export function streamChunks(pieces: string[], usage: [number, number] = [10, pieces.length]): unknown[] {
  return [
    ...pieces.map((piece, index) => ({
      id: 'chunk',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'test-model',
      choices: [
        {
          index: 0,
          delta: index === 0 ? { role: 'assistant', content: piece } : { content: piece },
          finish_reason: index === pieces.length - 1 ? 'stop' : null,
        },
      ],
    })),
    {
      id: 'chunk',
      object: 'chat.completion.chunk',
      created: 0,
      model: 'test-model',
      choices: [],
      usage: { prompt_tokens: usage[0], completion_tokens: usage[1], total_tokens: usage[0] + usage[1] },
    },
  ];
}

/**
 * A small OpenAI-compatible server on 127.0.0.1 speaking real HTTP and real SSE, whose replies are
 * scripted by `respond` (protocol tests, fault injection). Tracks in-flight requests so tests can
 * check concurrency limits.
 */
export async function startOpenAITestServer(
  respond: (request: ReceivedRequest, index: number) => ScriptedReply | Promise<ScriptedReply>,
) {
  const requests: ReceivedRequest[] = [];
  const open = new Set<ServerResponse>();
  let inFlight = 0;
  let maxInFlight = 0;
  const server = createServer(async (incoming, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      response.writeHead(400).end('{"error":{"message":"invalid json"}}');
      return;
    }
    const request = { path: incoming.url ?? '', headers: incoming.headers, body };
    const index = requests.push(request) - 1;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    open.add(response);
    response.on('close', () => {
      inFlight--;
      open.delete(response);
    });
    const reply = await respond(request, index);
    if (reply.kind === 'hang') return;
    if (reply.kind === 'json') {
      response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      response.end(JSON.stringify(reply.body));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const chunk of reply.chunks) {
      if (response.destroyed) return;
      response.write(`data: ${JSON.stringify(chunk)}\n\n`);
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    }
    if (!response.destroyed) response.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    get inFlight() {
      return inFlight;
    },
    async close() {
      for (const response of open) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
