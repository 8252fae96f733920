import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { AipoError } from '@aipo/core';

/** A file of a Hugging Face dataset repository. */
export interface HubFile {
  /** dataset repository, e.g. "HuggingFaceH4/MATH-500" */
  repo: string;
  /** path inside the repository */
  path: string;
  /** git revision (pin a commit for reproducibility); default "main" */
  revision?: string;
  /** expected sha256 of the bytes; a mismatch is CORRUPT_STATE */
  sha256?: string;
}

export interface DownloadHubFileOptions {
  /** cache root (default `$AIPO_CACHE_DIR` or `~/.cache/aipo/datasets`) */
  cacheDir?: string;
  /** access token for gated datasets (default `HF_TOKEN`) */
  token?: string;
  /** hub base URL (default the public hub; tests point it at 127.0.0.1) */
  hubUrl?: string;
  fetch?: typeof fetch;
}

/** The hub settings of a benchmark's load options (cache, token, fetch), without undefined keys. */
export function hubOptionsFrom(options: { cacheDir?: string; token?: string; fetch?: typeof fetch }): DownloadHubFileOptions {
  return {
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  };
}

export function defaultCacheDir(): string {
  return process.env.AIPO_CACHE_DIR ?? join(homedir(), '.cache', 'aipo', 'datasets');
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Download a dataset file once and serve it from the on-disk cache afterwards. Each cached file
 * has a `.sha256` sidecar written after the bytes (temp file + rename), so a torn or edited cache
 * entry is detected and re-downloaded instead of silently read.
 */
export async function downloadHubFile(file: HubFile, options: DownloadHubFileOptions = {}): Promise<{ path: string; bytes: Uint8Array }> {
  const revision = file.revision ?? 'main';
  const target = join(options.cacheDir ?? defaultCacheDir(), file.repo, revision, file.path);
  const cached = await readVerified(target);
  if (cached !== undefined && (file.sha256 === undefined || sha256Hex(cached) === file.sha256)) return { path: target, bytes: cached };

  const token = options.token ?? process.env.HF_TOKEN;
  let blob: Blob | null;
  try {
    // Loaded on first use: offline runs from a local path never need the hub client.
    const { downloadFile } = await import('@huggingface/hub');
    blob = await downloadFile({
      repo: { type: 'dataset', name: file.repo },
      path: file.path,
      revision,
      ...(options.hubUrl === undefined ? {} : { hubUrl: options.hubUrl }),
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(token === undefined ? {} : { accessToken: token }),
      xet: false,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const gated = /401|403|gated|auth/i.test(message);
    throw new AipoError({
      code: 'IO_ERROR',
      message: `could not download ${file.repo}/${file.path}@${revision}: ${message}${gated ? ' (gated dataset: accept its terms on the hub and set HF_TOKEN)' : ''}. Offline? Pass a local path instead.`,
      cause: error,
      details: { repo: file.repo, path: file.path, revision },
    });
  }
  if (blob === null) {
    throw new AipoError({ code: 'IO_ERROR', message: `${file.repo}/${file.path}@${revision} does not exist on the hub`, details: { ...file } });
  }
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const digest = sha256Hex(bytes);
  if (file.sha256 !== undefined && digest !== file.sha256) {
    throw new AipoError({
      code: 'CORRUPT_STATE',
      message: `${file.repo}/${file.path}@${revision}: sha256 ${digest} differs from the pinned ${file.sha256}`,
      details: { expected: file.sha256, actual: digest },
    });
  }
  await mkdir(dirname(target), { recursive: true });
  await writeFile(`${target}.tmp`, bytes);
  await rename(`${target}.tmp`, target);
  await writeFile(`${target}.sha256`, `${digest}\n`);
  return { path: target, bytes };
}

async function readVerified(target: string): Promise<Uint8Array | undefined> {
  try {
    const [bytes, sidecar] = await Promise.all([readFile(target), readFile(`${target}.sha256`, 'utf8')]);
    return sha256Hex(bytes) === sidecar.trim() ? new Uint8Array(bytes) : undefined;
  } catch {
    return undefined;
  }
}
