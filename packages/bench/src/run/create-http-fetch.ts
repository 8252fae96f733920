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
  // the openai client hands over a Headers instance: read it as is rather than copy it first
  const source = headers instanceof Headers ? headers : new Headers(headers);
  source.forEach((value, name) => {
    record[name] = value;
  });
  return record;
}

/** The `get`/`has`/iteration part of `Headers` over node's lower-cased header object, built for free. */
class ReplyHeaders {
  constructor(private readonly raw: IncomingMessage['headers']) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }

  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) callback(value, name);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw).sort()) yield [name, this.get(name) as string];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/**
 * The part of `Response` the openai client reads for a non-streaming reply: status, headers,
 * `text()`/`json()`. The body is already buffered, so `body` is null (the client only cancels it).
 * Building a real undici `Response` (headers, web stream, body mixin) cost more CPU per sample in
 * the harness profile than the HTTP round trip itself.
 */
class BufferedResponse {
  readonly ok: boolean;
  readonly redirected = false;
  readonly type = 'basic';
  readonly body = null;
  bodyUsed = false;

  constructor(
    private readonly bytes: Buffer,
    readonly status: number,
    readonly statusText: string,
    readonly headers: ReplyHeaders,
    readonly url: string,
  ) {
    this.ok = status >= 200 && status < 300;
  }

  async text(): Promise<string> {
    if (this.bodyUsed) throw new TypeError('body already read');
    this.bodyUsed = true;
    return this.bytes.toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    if (this.bodyUsed) throw new TypeError('body already read');
    this.bodyUsed = true;
    return Uint8Array.from(this.bytes).buffer;
  }
}

interface Target {
  secure: boolean;
  hostname: string;
  port: string;
  path: string;
}

/**
 * A `fetch` over node:http keep-alive agents for the openai client. Node's built-in fetch (undici
 * plus web streams) was the largest CPU cost per sample in the harness profile; a buffered body
 * over a plain socket does the same job for non-streaming JSON replies at a fraction of it, and
 * lets us cap the response size.
 */
export function createHttpFetch({ maxSockets = 256, maxResponseBytes = 64 * 2 ** 20 }: HttpFetchOptions = {}): typeof fetch {
  const agents = { 'http:': new HttpAgent({ keepAlive: true, maxSockets }), 'https:': new HttpsAgent({ keepAlive: true, maxSockets }) };
  // A run posts to one or two URLs thousands of times: parse each once (bounded, in case of many).
  const targets = new Map<string, Target>();
  const target = (href: string): Target => {
    let found = targets.get(href);
    if (found === undefined) {
      const url = new URL(href);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`unsupported protocol ${url.protocol}`);
      found = { secure: url.protocol === 'https:', hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path: `${url.pathname}${url.search}` };
      if (targets.size >= 64) targets.clear();
      targets.set(href, found);
    }
    return found;
  };
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const href = input instanceof Request ? input.url : String(input);
      let to: Target;
      try {
        to = target(href);
      } catch (error) {
        return reject(error);
      }
      const { secure } = to;
      const signal = init.signal ?? undefined;
      if (signal?.aborted) return reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      const options = {
        method: init.method ?? 'GET',
        hostname: to.hostname,
        ...(to.port === '' ? {} : { port: to.port }),
        path: to.path,
        headers: headerRecord(init.headers),
        agent: secure ? agents['https:'] : agents['http:'],
      };
      const request = (secure ? httpsRequest : httpRequest)(options, (response: IncomingMessage) => {
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
          const status = response.statusCode ?? 500;
          const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
          resolve(new BufferedResponse(body, status, response.statusMessage ?? '', new ReplyHeaders(response.headers), href) as unknown as Response);
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
