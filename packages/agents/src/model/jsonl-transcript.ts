import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AipoError, toAipoError } from '@aipo/core';
import type { ChatModel } from './chat-model';

/** An append-only JSONL log. Each record is serialised fully, then written with one append. */
export interface Transcript {
  /** append one record (writes are serialised in call order) */
  write(record: Record<string, unknown>): Promise<void>;
  /** resolves when every pending write is on disk */
  flush(): Promise<void>;
}

export function createJsonlTranscript(path: string): Transcript {
  let failure: AipoError | undefined;
  const fail = (error: unknown) => {
    failure ??= new AipoError({
      code: 'IO_ERROR',
      message: `cannot append to transcript ${path}`,
      cause: error,
      details: { path },
    });
  };
  let chain: Promise<void> = mkdir(dirname(path), { recursive: true }).then(() => undefined, fail);
  return {
    write(record) {
      const line = `${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`;
      chain = chain.then(() => (failure ? undefined : appendFile(path, line).catch(fail)));
      return chain.then(() => {
        if (failure) throw failure;
      });
    },
    async flush() {
      await chain;
      if (failure) throw failure;
    },
  };
}

/** Log every exchange of `model` (messages, options, reply or error, duration) to `transcript`. */
export function withTranscript(
  model: ChatModel,
  transcript: Transcript,
  labels: Record<string, unknown> = {},
): ChatModel {
  return {
    specificationVersion: 'v1',
    modelId: model.modelId,
    endpoint: model.endpoint,
    async generate(messages, options = {}, signal) {
      const started = Date.now();
      const base = { kind: 'chat', ...labels, modelId: model.modelId, endpoint: model.endpoint, messages, options };
      try {
        const result = await model.generate(messages, options, signal);
        await transcript.write({ ...base, result, durationMs: Date.now() - started });
        return result;
      } catch (error) {
        const normalised = toAipoError(error);
        await transcript.write({
          ...base,
          error: { code: normalised.code, message: normalised.message },
          durationMs: Date.now() - started,
        });
        throw error;
      }
    },
  };
}
