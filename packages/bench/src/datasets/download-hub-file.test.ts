import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { downloadHubFile } from './download-hub-file';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

const BODY = '{"problem":"p","answer":"1","subject":"Algebra","level":1,"unique_id":"a"}\n';

/** A real HTTP server on 127.0.0.1 speaking the hub's `resolve` URL scheme; gated repos need a token. */
async function startHub(): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  server = createServer((request, response) => {
    paths.push(`${request.method} ${request.url}`);
    if (request.url?.includes('/gated/') && request.headers.authorization !== 'Bearer hf_secret') {
      response.writeHead(401).end('{"error":"gated"}');
      return;
    }
    if (!request.url?.endsWith('/test.jsonl')) {
      response.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end('{"error":"not found"}');
      return;
    }
    const bytes = Buffer.from(BODY);
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      const end = range[2] === '' ? bytes.length - 1 : Math.min(bytes.length - 1, Number(range[2]));
      response.writeHead(206, { 'content-range': `bytes ${start}-${end}/${bytes.length}`, etag: '"abc"', 'content-length': end - start + 1 });
      response.end(request.method === 'HEAD' ? undefined : bytes.subarray(start, end + 1));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length, etag: '"abc"' });
    response.end(request.method === 'HEAD' ? undefined : bytes);
  });
  const listening = server;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(listening.address() as AddressInfo).port}`, paths };
}

describe('downloadHubFile', () => {
  it('downloads once, then serves the checksummed cache; a corrupted cache is fetched again', async () => {
    const hub = await startHub();
    const cacheDir = mkdtempSync(`${tmpdir()}/aipo-hub-`);
    const first = await downloadHubFile({ repo: 'org/set', path: 'test.jsonl' }, { cacheDir, hubUrl: hub.url });
    expect(new TextDecoder().decode(first.bytes)).toBe(BODY);
    expect(hub.paths.some((path) => path.includes('/datasets/org/set/resolve/main/test.jsonl'))).toBe(true);
    expect(readFileSync(`${first.path}.sha256`, 'utf8').trim()).toBe(createHash('sha256').update(BODY).digest('hex'));
    const requests = hub.paths.length;
    await downloadHubFile({ repo: 'org/set', path: 'test.jsonl' }, { cacheDir, hubUrl: hub.url });
    expect(hub.paths.length).toBe(requests);
    writeFileSync(first.path, 'tampered');
    const again = await downloadHubFile({ repo: 'org/set', path: 'test.jsonl' }, { cacheDir, hubUrl: hub.url });
    expect(new TextDecoder().decode(again.bytes)).toBe(BODY);
    expect(hub.paths.length).toBeGreaterThan(requests);
  });

  it('rejects a pinned checksum mismatch and explains gated or missing files', async () => {
    const hub = await startHub();
    const cacheDir = mkdtempSync(`${tmpdir()}/aipo-hub-`);
    await expect(downloadHubFile({ repo: 'org/set', path: 'test.jsonl', sha256: '0'.repeat(64) }, { cacheDir, hubUrl: hub.url })).rejects.toMatchObject({ code: 'CORRUPT_STATE' });
    await expect(downloadHubFile({ repo: 'org/gated', path: 'test.jsonl' }, { cacheDir, hubUrl: hub.url, token: 'hf_wrong' })).rejects.toThrow(/HF_TOKEN/);
    const gated = await downloadHubFile({ repo: 'org/gated', path: 'test.jsonl' }, { cacheDir, hubUrl: hub.url, token: 'hf_secret' });
    expect(gated.bytes.length).toBe(Buffer.byteLength(BODY));
    await expect(downloadHubFile({ repo: 'org/set', path: 'missing.jsonl' }, { cacheDir, hubUrl: hub.url })).rejects.toMatchObject({ code: 'IO_ERROR' });
  });
});
