import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AipoError } from '@aipo/core';
import { z } from 'zod';
import type { ChatModel, ChatResult } from './chat-model';

/** Settings for {@link withDiskCache}. */
export interface DiskCacheSettings {
  /** folder holding one JSON file per cached call */
  directory: string;
  /** observe hits and misses (accounting, tests) */
  onLookup?: (event: { key: string; hit: boolean }) => void;
}

const cachedResultSchema = z.object({
  text: z.string(),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number() }),
  finishReason: z.enum(['stop', 'length', 'content_filter', 'other']),
  logProbs: z.array(z.object({ token: z.string(), logProb: z.number() })).optional(),
});

/**
 * Cache deterministic calls (temperature exactly 0) on disk. Sampled calls are never cached, or
 * every "random" sample would repeat (lm-eval's rule, reliability.md §3); errors are never cached.
 * A corrupt entry is treated as a miss and rewritten. Writes go to a temp file, then `rename`.
 */
export function withDiskCache(model: ChatModel, settings: DiskCacheSettings): ChatModel {
  const { directory, onLookup } = settings;
  return {
    specificationVersion: 'v1',
    modelId: model.modelId,
    endpoint: model.endpoint,
    async generate(messages, options = {}, signal) {
      if (options.temperature !== 0) return model.generate(messages, options, signal);
      const key = createHash('sha256')
        .update(JSON.stringify({ modelId: model.modelId, endpoint: model.endpoint, messages, options }))
        .digest('hex');
      const file = join(directory, key.slice(0, 2), `${key}.json`);
      const cached = await readCached(file);
      onLookup?.({ key, hit: cached !== undefined });
      if (cached !== undefined) return cached;
      const result = await model.generate(messages, options, signal);
      await writeCached(file, result);
      return result;
    },
  };
}

async function readCached(file: string): Promise<ChatResult | undefined> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = cachedResultSchema.safeParse(JSON.parse(raw));
    return parsed.success ? (parsed.data as ChatResult) : undefined;
  } catch {
    return undefined;
  }
}

async function writeCached(file: string, result: ChatResult): Promise<void> {
  try {
    await mkdir(join(file, '..'), { recursive: true });
    const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(temporary, JSON.stringify(result));
    await rename(temporary, file);
  } catch (error) {
    throw new AipoError({
      code: 'IO_ERROR',
      message: `cannot write cache entry ${file}`,
      cause: error,
      details: { file },
    });
  }
}
