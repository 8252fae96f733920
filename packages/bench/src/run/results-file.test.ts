import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openResultsFile, parseResults } from './results-file';

const header = { type: 'run', formatVersion: 1, benchmark: 'b', model: 'm', template: 'default', sampling: {}, seed: 0, n: 1, dataset: {}, startedAt: 'x' } as const;

describe('results file', () => {
  it('appends one JSON line per record, durable when append resolves, and reads them back on resume', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aipo-results-')), 'r.jsonl');
    const file = openResultsFile({ path });
    await file.append(header);
    expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(header)}\n`);
    await file.append({ type: 'grade', key: 'k', itemId: 'i', sampleIndex: 0, pass: true, score: 1, reason: 'ok', details: {} });
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(3);
    await file.close();
    const resumed = openResultsFile({ path, resume: true });
    expect(resumed.existing.map((record) => record.type)).toEqual(['run', 'grade']);
    expect(resumed.droppedTornLine).toBe(false);
    await resumed.close();
  });

  it('group-commits lines queued together, keeps their order, and flushes queued lines on close', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aipo-results-')), 'r.jsonl');
    const file = openResultsFile({ path });
    const grade = (index: number) => ({ type: 'grade', key: `k${index}`, itemId: 'i', sampleIndex: index, pass: true, score: 1, reason: 'ok', details: {} }) as const;
    // nothing is on disk until the turn ends; then every line of the turn is there at once
    const first = Array.from({ length: 50 }, (_, index) => file.append(grade(index)));
    expect(readFileSync(path, 'utf8')).toBe('');
    await first[0];
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(50);
    await Promise.all(first);
    // queued but not awaited: close() still writes them
    for (let index = 50; index < 80; index++) void file.append(grade(index));
    await file.close();
    const { records } = parseResults(readFileSync(path, 'utf8'), path);
    expect(records.map((record) => (record.type === 'grade' ? record.sampleIndex : -1))).toEqual(Array.from({ length: 80 }, (_, index) => index));
    await expect(file.append(grade(99))).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('drops a torn last line and truncates it away so later appends stay valid', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aipo-results-')), 'r.jsonl');
    writeFileSync(path, `${JSON.stringify(header)}\n{"type":"grade","key":"k","ite`);
    const file = openResultsFile({ path, resume: true });
    expect(file.droppedTornLine).toBe(true);
    expect(file.existing).toHaveLength(1);
    await file.append({ type: 'grade', key: 'k2', itemId: 'i', sampleIndex: 0, pass: false, score: 0, reason: 'no', details: {} });
    await file.close();
    const { records, droppedTornLine } = parseResults(readFileSync(path, 'utf8'), path);
    expect(droppedTornLine).toBe(false);
    expect(records.map((record) => (record.type === 'grade' ? record.key : record.type))).toEqual(['run', 'k2']);
  });

  it('refuses corruption in the middle of the file, naming the line', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aipo-results-')), 'r.jsonl');
    writeFileSync(path, `${JSON.stringify(header)}\nnot json\n${JSON.stringify(header)}\n`);
    expect(() => openResultsFile({ path, resume: true })).toThrow(/r\.jsonl:2: not a results record/);
  });

  it('will not clobber an existing run unless told to', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aipo-results-')), 'r.jsonl');
    appendFileSync(path, `${JSON.stringify(header)}\n`);
    expect(() => openResultsFile({ path })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const file = openResultsFile({ path, overwrite: true });
    await file.close();
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it.skipIf(!existsSync('/dev/full'))('turns a failed write (disk full) into IO_ERROR for every waiting append and for close', async () => {
    const file = openResultsFile({ path: '/dev/full', overwrite: true });
    const results = await Promise.allSettled([file.append(header), file.append(header)]);
    for (const result of results) expect(result).toMatchObject({ status: 'rejected', reason: { code: 'IO_ERROR' } });
    await expect(file.append(header)).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect(file.close()).rejects.toMatchObject({ code: 'IO_ERROR' });
  });
});
