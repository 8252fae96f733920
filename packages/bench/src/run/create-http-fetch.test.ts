import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpFetch } from './create-http-fetch';

describe('createHttpFetch (the sampler\'s keep-alive fetch)', () => {
  let base = '';
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/big') {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('x'.repeat(5000));
        return;
      }
      const status = request.url === '/limited' ? 429 : 200;
      response.writeHead(status, { 'content-type': 'application/json', 'Retry-After': '3', 'set-cookie': ['a=1', 'b=2'] });
      response.end(JSON.stringify({ method: request.method, path: request.url, auth: request.headers.authorization ?? null, body: Buffer.concat(chunks).toString() }));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));

  it('sends method, headers and body, and reads status, headers (any case) and JSON back', async () => {
    const fetch = createHttpFetch();
    const response = await fetch(`${base}/v1/chat/completions?x=1`, { method: 'POST', headers: new Headers({ Authorization: 'Bearer k' }), body: '{"a":1}' });
    expect(response.ok).toBe(true);
    expect(response.status).toBe(200);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(response.headers.get('RETRY-AFTER')).toBe('3');
    expect(response.headers.get('set-cookie')).toBe('a=1, b=2');
    expect(response.headers.get('x-missing')).toBeNull();
    expect(await response.json()).toEqual({ method: 'POST', path: '/v1/chat/completions?x=1', auth: 'Bearer k', body: '{"a":1}' });
    await expect(response.text()).rejects.toThrow('body already read');
  });

  it('reports non-2xx statuses as not ok, and stops at the size cap', async () => {
    const fetch = createHttpFetch({ maxResponseBytes: 1000 });
    const limited = await fetch(`${base}/limited`, { method: 'POST', body: '' });
    expect(limited.ok).toBe(false);
    expect(limited.status).toBe(429);
    expect([...limited.headers].map(([name]) => name)).toContain('retry-after');
    await expect(fetch(`${base}/big`)).rejects.toThrow('exceeds 1000 bytes');
  });

  it('rejects other protocols and an aborted signal without sending', async () => {
    const fetch = createHttpFetch();
    await expect(fetch('ftp://127.0.0.1/x')).rejects.toThrow('unsupported protocol');
    await expect(fetch(`${base}/x`, { signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
  });
});
