// A minimal Docker Registry HTTP API v2 server for tests (not exported): real HTTP on 127.0.0.1,
// blobs and manifests in memory. dockerd treats 127.0.0.0/8 registries as insecure, so it pushes to
// and pulls from this over plain HTTP. Covers what `docker push` / `docker pull` use
// (distribution/docs/spec/api.md): the version check, blob HEAD/GET, chunked uploads
// (POST, PATCH, PUT ?digest=), and manifest PUT/GET/HEAD by tag or digest.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestRegistry {
  /** `127.0.0.1:PORT`, the prefix of image names on this registry */
  readonly host: string;
  /** every request as `METHOD path` (no query), for asserting what a pull fetched */
  readonly requests: string[];
  close(): Promise<void>;
}

interface Manifest {
  body: Buffer;
  mediaType: string;
  digest: string;
}

const MANIFEST_ROUTE = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const UPLOAD_ROUTE = /^\/v2\/(.+)\/blobs\/uploads\/([^/]*)$/;
const BLOB_ROUTE = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/;

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Start a registry on an ephemeral port of 127.0.0.1. */
export async function startTestRegistry(): Promise<TestRegistry> {
  const blobs = new Map<string, Buffer>();
  const uploads = new Map<string, Buffer[]>();
  const manifests = new Map<string, Manifest>(); // `${name}:${tag or digest}`
  const requests: string[] = [];

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://registry');
    const method = request.method ?? 'GET';
    const path = url.pathname;
    requests.push(`${method} ${path}`);
    response.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
    const error = (status: number, code: string): void => {
      response
        .writeHead(status, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] }));
    };

    if (path === '/v2/' || path === '/v2') {
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      return;
    }
    const upload = UPLOAD_ROUTE.exec(path);
    if (upload) {
      const [, name, id] = upload as unknown as [string, string, string];
      if (method === 'POST' && id === '') {
        // a cross-repository mount (?mount=) is not supported: answering with a new upload tells the
        // client to send the blob instead, as the spec allows
        const uuid = randomUUID();
        uploads.set(uuid, [await readBody(request)]);
        response
          .writeHead(202, {
            Location: `/v2/${name}/blobs/uploads/${uuid}`,
            Range: '0-0',
            'Docker-Upload-UUID': uuid,
            'Content-Length': '0',
          })
          .end();
        return;
      }
      const parts = uploads.get(id);
      if (parts === undefined) return error(404, 'BLOB_UPLOAD_UNKNOWN');
      parts.push(await readBody(request));
      const size = parts.reduce((sum, part) => sum + part.length, 0);
      if (method === 'PATCH') {
        response
          .writeHead(202, {
            Location: `/v2/${name}/blobs/uploads/${id}`,
            Range: `0-${Math.max(0, size - 1)}`,
            'Docker-Upload-UUID': id,
            'Content-Length': '0',
          })
          .end();
        return;
      }
      if (method === 'PUT') {
        const expected = url.searchParams.get('digest');
        const blob = Buffer.concat(parts);
        uploads.delete(id);
        if (expected === null || sha256(blob) !== expected) return error(400, 'DIGEST_INVALID');
        blobs.set(expected, blob);
        response
          .writeHead(201, {
            Location: `/v2/${name}/blobs/${expected}`,
            'Docker-Content-Digest': expected,
            'Content-Length': '0',
          })
          .end();
        return;
      }
      return error(405, 'UNSUPPORTED');
    }
    const blobRoute = BLOB_ROUTE.exec(path);
    if (blobRoute && (method === 'GET' || method === 'HEAD')) {
      const digest = blobRoute[2] as string;
      const blob = blobs.get(digest);
      if (blob === undefined) return error(404, 'BLOB_UNKNOWN');
      response.writeHead(200, {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(blob.length),
        'Docker-Content-Digest': digest,
      });
      response.end(method === 'HEAD' ? undefined : blob);
      return;
    }
    const manifestRoute = MANIFEST_ROUTE.exec(path);
    if (manifestRoute) {
      const [, name, reference] = manifestRoute as unknown as [string, string, string];
      if (method === 'PUT') {
        const body = await readBody(request);
        const digest = sha256(body);
        const mediaType = request.headers['content-type'] ?? 'application/vnd.docker.distribution.manifest.v2+json';
        const manifest = { body, mediaType, digest };
        manifests.set(`${name}:${reference}`, manifest);
        manifests.set(`${name}:${digest}`, manifest);
        response
          .writeHead(201, {
            Location: `/v2/${name}/manifests/${digest}`,
            'Docker-Content-Digest': digest,
            'Content-Length': '0',
          })
          .end();
        return;
      }
      if (method === 'GET' || method === 'HEAD') {
        const manifest = manifests.get(`${name}:${reference}`);
        if (manifest === undefined) return error(404, 'MANIFEST_UNKNOWN');
        response.writeHead(200, {
          'Content-Type': manifest.mediaType,
          'Content-Length': String(manifest.body.length),
          'Docker-Content-Digest': manifest.digest,
        });
        response.end(method === 'HEAD' ? undefined : manifest.body);
        return;
      }
      return error(405, 'UNSUPPORTED');
    }
    error(404, 'NAME_UNKNOWN');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
