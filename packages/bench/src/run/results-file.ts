import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { AipoError } from '@aipo/core';
import type { ResultRecord } from './result-records';

export interface ResultsFile {
  /** records already in the file (resume), torn tail dropped */
  readonly existing: ResultRecord[];
  /** whether a torn last line was found and dropped */
  readonly droppedTornLine: boolean;
  append(record: ResultRecord): void;
  close(): void;
}

/** How long appended lines may sit in the page cache before an fsync (group commit). */
const FSYNC_INTERVAL_MS = 25;

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
 * An append-only JSONL results file. Records are serialised whole and written at the end of the
 * event-loop turn that produced them (one `write` for all of that turn's lines), so a crash can
 * tear at most the last line; fsyncs are grouped every 25 ms so durability does not cap
 * throughput (a killed process loses at most the current turn's lines; the fsync window only
 * matters if the machine itself dies).
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
  let timer: NodeJS.Timeout | undefined;
  let pending = '';
  let closed = false;
  // Lines of one event-loop turn go out in one write (whole lines only, so tears stay at the end).
  const flush = (): void => {
    if (pending === '') return;
    const text = pending;
    pending = '';
    writeSync(fd, text);
  };
  const sync = (): void => {
    timer = undefined;
    if (closed) return;
    flush();
    fsyncSync(fd);
  };
  return {
    existing,
    droppedTornLine,
    append(record) {
      if (closed) throw new AipoError({ code: 'INTERNAL', message: 'append after close' });
      if (pending === '') setImmediate(flush);
      pending += `${JSON.stringify(record)}\n`;
      timer ??= setTimeout(sync, FSYNC_INTERVAL_MS);
    },
    close() {
      if (closed) return;
      if (timer !== undefined) clearTimeout(timer);
      flush();
      fsyncSync(fd);
      closed = true;
      closeSync(fd);
    },
  };
}
