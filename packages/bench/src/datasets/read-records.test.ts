import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { aime2024 } from '../benchmarks/aime';
import { readRecords } from './read-records';

/** A parquet file shaped like HuggingFaceH4/aime_2024 (snappy-compressed, as the hub serves it). */
function aimeParquet(): Uint8Array {
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: [60, 61, 62], type: 'INT32' },
        { name: 'problem', data: ['Find x.', 'Find y.', 'Find z.'], type: 'STRING' },
        { name: 'answer', data: ['025', '113', '7'], type: 'STRING' },
        { name: 'year', data: [2024, 2024, 2024], type: 'INT32' },
      ],
    }),
  );
}

describe('readRecords', () => {
  it('reads parquet rows with 1-based row numbers, and an AIME loader takes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aipo-parquet-'));
    const bytes = aimeParquet();
    const records = await readRecords({ file: 'train.parquet', bytes });
    expect(records.map(({ line, value }) => [line, (value as { answer: string }).answer])).toEqual([
      [1, '025'],
      [2, '113'],
      [3, '7'],
    ]);
    writeFileSync(join(dir, 'aime.parquet'), bytes);
    const items = await aime2024.load({ path: join(dir, 'aime.parquet') });
    expect(items.map((item) => [item.id, item.variables.problem, item.reference])).toEqual([
      ['60', 'Find x.', '025'],
      ['61', 'Find y.', '113'],
      ['62', 'Find z.', '7'],
    ]);
  });

  it('rejects bytes that are not parquet with INVALID_DATASET naming the file', async () => {
    await expect(readRecords({ file: 'bad.parquet', bytes: new TextEncoder().encode('not parquet at all') })).rejects.toMatchObject({
      code: 'INVALID_DATASET',
      message: expect.stringContaining('bad.parquet'),
    });
  });

  it('reads CSV rows keyed by header, and reports invalid JSONL lines by number', async () => {
    const csv = await readRecords({ file: 'x.csv', bytes: new TextEncoder().encode('a,b\n1,2\n') });
    expect(csv).toEqual([{ file: 'x.csv', line: 2, value: { a: '1', b: '2' } }]);
    await expect(readRecords({ file: 'x.jsonl', bytes: new TextEncoder().encode('{"a":1}\n{oops\n') })).rejects.toThrow('x.jsonl:2: invalid JSON');
  });
});
