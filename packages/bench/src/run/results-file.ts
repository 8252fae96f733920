import { close as closeFd, closeSync, existsSync, fsync, ftruncateSync, openSync, readFileSync, write } from 'node:fs';
import { AipoError } from '@aipo/core';
import type { ResultRecord } from './result-records';

export interface ResultsFile {
  /** records already in the file (resume), torn tail dropped */
  readonly existing: ResultRecord[];
  /** whether a torn last line was found and dropped */
  readonly droppedTornLine: boolean;
  /**
   * Queue a record; resolves once its line is written and fsync'd (group commit: every line that
   * arrived while the previous write+fsync was in flight goes out in the next one).
   */
  append(record: ResultRecord): Promise<void>;
  /** Write and fsync whatever is queued, then close; appends after this reject. */
  close(): Promise<void>;
}

/**
 * Parse a results file. A last line without its newline, or one that is not JSON, is a write torn
 * by a crash: it is dropped (reliability.md §4.4 A7). A bad line anywhere else is real corruption.
 */
export function parseResults(text: string, path: string): { records: ResultRecord[]; goodBytes: number; droppedTornLine: boolean } {
  const records: ResultRecord[] = [];
  let offset = 0;
  let line = 0;
  while (offset < text.length) {
    const end = text.indexOf('\n', offset);
    line++;
    const raw = end === -1 ? text.slice(offset) : text.slice(offset, end);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const valid = typeof parsed === 'object' && parsed !== null && typeof (parsed as { type?: unknown }).type === 'string';
    if (end === -1 || !valid) {
      const isLast = end === -1 || end === text.length - 1;
      if (isLast) return { records, goodBytes: Buffer.byteLength(text.slice(0, offset)), droppedTornLine: raw.trim() !== '' };
      throw new AipoError({ code: 'CORRUPT_STATE', message: `${path}:${line}: not a results record`, details: { path, line } });
    }
    records.push(parsed as ResultRecord);
    offset = end + 1;
  }
  return { records, goodBytes: Buffer.byteLength(text), droppedTornLine: false };
}

/**
 * An append-only JSONL results file with group commit. Records are serialised whole and queued;
 * one `write` plus one `fsync` (both on libuv's thread pool, so the event loop never waits on the
 * disk) takes every line queued since the last one, and `append` resolves only when its line is
 * durable: a sample counts as done only after that. Writes never overlap and carry whole lines, so
 * a crash can tear at most the last line, which `parseResults` drops on resume (reliability.md
 * §4.4 A7). A killed process loses only lines whose `append` had not resolved yet.
 */
export function openResultsFile({ path, resume = false, overwrite = false }: { path: string; resume?: boolean; overwrite?: boolean }): ResultsFile {
  let existing: ResultRecord[] = [];
  let droppedTornLine = false;
  const present = existsSync(path);
  if (present && resume) {
    const parsed = parseResults(readFileSync(path, 'utf8'), path);
    existing = parsed.records;
    droppedTornLine = parsed.droppedTornLine;
    const fd = openSync(path, 'r+');
    ftruncateSync(fd, parsed.goodBytes);
    closeSync(fd);
  } else if (present && !overwrite && readFileSync(path).length > 0) {
    throw new AipoError({
      code: 'INVALID_ARGUMENT',
      message: `${path} already holds results: pass --resume to continue that run or --overwrite to start again`,
      details: { path },
    });
  }
  let fd: number;
  try {
    fd = openSync(path, present && resume ? 'a' : 'w');
  } catch (error) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot open ${path} for writing`, cause: error, details: { path } });
  }
  let pending: string[] = [];
  let waiting: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  let inFlight: Promise<void> | undefined;
  let failure: AipoError | undefined;
  let closed = false;

  const writeAll = (buffer: Buffer, offset: number, done: (error: Error | null) => void): void => {
    write(fd, buffer, offset, buffer.length - offset, null, (error, written) => {
      if (error) return done(error);
      // a short write (disk full, signals) continues where it stopped: lines stay whole and ordered
      if (offset + written < buffer.length) return writeAll(buffer, offset + written, done);
      done(null);
    });
  };
  const commit = (): Promise<void> => {
    const lines = pending;
    const batch = waiting;
    pending = [];
    waiting = [];
    return new Promise<void>((resolve) => {
      writeAll(Buffer.from(lines.join(''), 'utf8'), 0, (writeError) => {
        const settle = (error: Error | null): void => {
          if (error) {
            failure ??= new AipoError({ code: 'IO_ERROR', message: `cannot write ${path}: ${error.message}`, cause: error, details: { path } });
            for (const entry of batch) entry.reject(failure);
          } else {
            for (const entry of batch) entry.resolve();
          }
          resolve();
        };
        if (writeError) settle(writeError);
        else fsync(fd, settle);
      });
    }).then(() => {
      // lines that arrived during this commit form the next group
      inFlight = pending.length > 0 && failure === undefined ? commit() : undefined;
      if (failure !== undefined) for (const entry of waiting.splice(0)) entry.reject(failure);
    });
  };
  return {
    existing,
    droppedTornLine,
    append(record) {
      if (closed) return Promise.reject(new AipoError({ code: 'INTERNAL', message: 'append after close' }));
      if (failure !== undefined) return Promise.reject(failure);
      pending.push(`${JSON.stringify(record)}\n`);
      return new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        // wait out the current event-loop turn so its lines share one write
        if (inFlight === undefined) inFlight = new Promise<void>((start) => setImmediate(start)).then(commit);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      while (inFlight !== undefined) await inFlight;
      if (pending.length > 0 && failure === undefined) await commit();
      await new Promise<void>((resolve, reject) => closeFd(fd, (error) => (error ? reject(error) : resolve())));
      if (failure !== undefined) throw failure;
    },
  };
}
