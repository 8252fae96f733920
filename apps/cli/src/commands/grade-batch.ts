import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { AipoError } from '@aipo/core';
import { invalidLine, isFatal, type VerdictLine } from './grade-records';

/**
 * Grade a JSONL file line by line with bounded concurrency, writing one verdict per input line in
 * input order (a reorder window of `concurrency` lines), so memory stays flat on any file size.
 */
export async function gradeBatch({ input, output, concurrency, gradeLine, onProgress }: {
  input: string;
  output: string;
  concurrency: number;
  gradeLine: (record: unknown) => Promise<VerdictLine>;
  /** called after each verdict line is written */
  onProgress?: (done: number) => void;
}): Promise<{ lines: number; passed: number }> {
  const source = input === '-' ? process.stdin : createReadStream(input);
  source.on('error', () => {});
  const sink: Writable = output === '-' ? process.stdout : createWriteStream(output);
  const window: Array<Promise<VerdictLine>> = [];
  let lines = 0;
  let passed = 0;
  let written = 0;
  const flush = async (): Promise<void> => {
    const line = await (window.shift() as Promise<VerdictLine>);
    if (line.pass) passed++;
    if (!sink.write(`${JSON.stringify(line)}\n`)) await new Promise((resolve) => sink.once('drain', resolve));
    onProgress?.(++written);
  };
  try {
    const reader = createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY });
    for await (const text of reader) {
      const lineNumber = ++lines;
      window.push(gradeOne({ text, lineNumber, gradeLine }));
      if (window.length >= concurrency) await flush();
    }
    while (window.length > 0) await flush();
  } catch (error) {
    if (AipoError.isInstance(error)) throw error;
    throw new AipoError({ code: 'IO_ERROR', message: `cannot read ${input === '-' ? 'stdin' : input}: ${String(error)}`, cause: error });
  } finally {
    if (sink !== process.stdout) await new Promise((resolve) => (sink as ReturnType<typeof createWriteStream>).end(resolve));
  }
  return { lines, passed };
}

async function gradeOne({ text, lineNumber, gradeLine }: { text: string; lineNumber: number; gradeLine: (record: unknown) => Promise<VerdictLine> }): Promise<VerdictLine> {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return invalidLine(null, `line ${lineNumber}: not JSON`, { line: lineNumber });
  }
  const id = typeof record === 'object' && record !== null ? (record as { id?: unknown }).id : undefined;
  try {
    return await gradeLine(record);
  } catch (error) {
    if (isFatal(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return { ...invalidLine(id, `line ${lineNumber}: ${message}`, { line: lineNumber }), verdict: AipoError.isInstance(error) && error.code === 'INVALID_ARGUMENT' ? 'invalid-input' : 'error' };
  }
}
