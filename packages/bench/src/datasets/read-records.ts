import { AipoError } from '@aipo/core';
import { parquetReadObjects } from 'hyparquet';
import { parseCsv } from './parse-csv';

/** A raw dataset record with where it came from, so validation errors can name file and line. */
export interface SourcedRecord {
  /** file the record was read from */
  file: string;
  /** 1-based line (JSONL, CSV) or row (parquet) */
  line: number;
  /** the parsed record */
  value: unknown;
}

/** Parse JSONL, CSV or parquet bytes into records; the format comes from the file name. */
export async function readRecords({ file, bytes }: { file: string; bytes: Uint8Array }): Promise<SourcedRecord[]> {
  const name = file.toLowerCase();
  if (name.endsWith('.parquet')) {
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    try {
      const rows = await parquetReadObjects({ file: buffer });
      return rows.map((value, index) => ({ file, line: index + 1, value }));
    } catch (error) {
      throw new AipoError({ code: 'INVALID_DATASET', message: `${file}: not a readable parquet file`, cause: error, details: { file } });
    }
  }
  const text = new TextDecoder().decode(bytes);
  if (name.endsWith('.csv')) return parseCsv(text).map(({ line, row }) => ({ file, line, value: row }));
  if (name.endsWith('.jsonl') || name.endsWith('.json')) return parseJsonLines({ file, text });
  throw new AipoError({
    code: 'INVALID_DATASET',
    message: `${file}: unsupported dataset format (expected .jsonl, .csv or .parquet)`,
    details: { file },
  });
}

function parseJsonLines({ file, text }: { file: string; text: string }): SourcedRecord[] {
  const records: SourcedRecord[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]?.trim() ?? '';
    if (raw === '') continue;
    try {
      records.push({ file, line: index + 1, value: JSON.parse(raw) as unknown });
    } catch (error) {
      throw new AipoError({
        code: 'INVALID_DATASET',
        message: `${file}:${index + 1}: invalid JSON (${error instanceof Error ? error.message : String(error)})`,
        details: { file, line: index + 1 },
      });
    }
  }
  return records;
}
