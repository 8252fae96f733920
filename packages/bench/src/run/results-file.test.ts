import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openResultsFile, parseResults } from './results-file';

const header = { type: 'run', formatVersion: 1, benchmark: 'b', model: 'm', template: 'default', sampling: {}, seed: 0, n: 1, dataset: {}, startedAt: 'x' } as const;

describe('results file', () => {
  it('appends one JSON line per record and reads them back on resume', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aipo-results-')), 'r.jsonl');
    const file = openResultsFile({ path });
    file.append(header);
    file.append({ type: 'grade', key: 'k', itemId: 'i', sampleIndex: 0, pass: true, score: 1, reason: 'ok', details: {} });
    file.close();
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(3);
    const resumed = openResultsFile({ path, resume: true });
    expect(resumed.existing.map((record) => record.type)).toEqual(['run', 'grade']);
    expect(resumed.droppedTornLine).toBe(false);
    resumed.close();
  });

  it('drops a torn last line and truncates it away so later appends stay valid', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aipo-results-')), 'r.jsonl');
    writeFileSync(path, `${JSON.stringify(header)}\n{"type":"grade","key":"k","ite`);
    const file = openResultsFile({ path, resume: true });
    expect(file.droppedTornLine).toBe(true);
    expect(file.existing).toHaveLength(1);
    file.append({ type: 'grade', key: 'k2', itemId: 'i', sampleIndex: 0, pass: false, score: 0, reason: 'no', details: {} });
    file.close();
    const { records, droppedTornLine } = parseResults(readFileSync(path, 'utf8'), path);
    expect(droppedTornLine).toBe(false);
    expect(records.map((record) => (record.type === 'grade' ? record.key : record.type))).toEqual(['run', 'k2']);
  });

  it('refuses corruption in the middle of the file, naming the line', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aipo-results-')), 'r.jsonl');
    writeFileSync(path, `${JSON.stringify(header)}\nnot json\n${JSON.stringify(header)}\n`);
    expect(() => openResultsFile({ path, resume: true })).toThrow(/r\.jsonl:2: not a results record/);
  });

  it('will not clobber an existing run unless told to', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aipo-results-')), 'r.jsonl');
    appendFileSync(path, `${JSON.stringify(header)}\n`);
    expect(() => openResultsFile({ path })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const file = openResultsFile({ path, overwrite: true });
    file.close();
    expect(readFileSync(path, 'utf8')).toBe('');
  });
});
