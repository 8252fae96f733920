import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpFetchOptions {
  /** sockets kept open per origin (default 256) */
  maxSockets?: number;
  /** larger bodies are cut off with an error (reliability.md §4.4 A6; default 64 MiB) */
  maxResponseBytes?: number;
}

function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  new Headers(headers).forEach((value, name) => {
    record[name] = value;
  });
  return record;
}

/**
 * A `fetch` over node:http keep-alive agents for the openai client. Node's built-in fetch (undici
 * plus web streams) was the largest CPU cost per sample in the harness profile; a buffered body
 * over a plain socket does the same job for non-streaming JSON replies at a fraction of it, and
 * lets us cap the response size.
 */
export function createHttpFetch({ maxSockets = 256, maxResponseBytes = 64 * 2 ** 20 }: HttpFetchOptions = {}): typeof fetch {
  const agents = { 'http:': new HttpAgent({ keepAlive: true, maxSockets }), 'https:': new HttpsAgent({ keepAlive: true, maxSockets }) };
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const secure = url.protocol === 'https:';
      if (!secure && url.protocol !== 'http:') return reject(new TypeError(`unsupported protocol ${url.protocol}`));
      const signal = init.signal ?? undefined;
      if (signal?.aborted) return reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      const options = { method: init.method ?? 'GET', headers: headerRecord(init.headers), agent: secure ? agents['https:'] : agents['http:'] };
      const request = (secure ? httpsRequest : httpRequest)(url, options, (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes) return fail(new Error(`response body exceeds ${maxResponseBytes} bytes`));
          chunks.push(chunk);
        });
        response.on('error', fail);
        response.on('aborted', () => fail(new Error('connection closed mid-response')));
        response.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          if (!response.complete) return fail(new Error('connection closed mid-response'));
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          const status = response.statusCode ?? 500;
          const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status, statusText: response.statusMessage ?? '', headers }));
        });
      });
      function fail(error: unknown): void {
        signal?.removeEventListener('abort', onAbort);
        request.destroy();
        reject(error);
      }
      function onAbort(): void {
        fail(signal?.reason ?? new DOMException('aborted', 'AbortError'));
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', fail);
      const body = init.body;
      if (body === undefined || body === null) request.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) request.end(body);
      else fail(new TypeError('createHttpFetch sends string or byte bodies only'));
    });
}
