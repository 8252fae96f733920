import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDatasets } from '../test/shared-datasets';
import { aime2024, aime2025 } from './aime';
import { builtinBenchmarks } from './builtin';
import { math500 } from './math500';

const shared = sharedDatasets();

describe('benchmark registry', () => {
  it('lists the five built-ins and gives fresh instances', () => {
    const registry = builtinBenchmarks();
    expect(registry.list()).toEqual(['aime2024', 'aime2025', 'math500', 'gpqa-diamond', 'livecodebench']);
    registry.register('custom', { ...math500, id: 'custom' });
    expect(builtinBenchmarks().has('custom')).toBe(false);
    expect(() => registry.get('nope')).toThrow(expect.objectContaining({ code: 'UNKNOWN_ENTRY' }));
  });
});

describe.skipIf(!shared.available)('math loaders on the shared datasets', () => {
  it('loads MATH500 with subject and level tags', async () => {
    const items = await math500.load({ path: join(shared.dir, 'math500') });
    expect(items).toHaveLength(500);
    const levels = new Map<string, number>();
    for (const item of items) levels.set(item.tags.level as string, (levels.get(item.tags.level as string) ?? 0) + 1);
    // SOURCE.md: Levels 1:43, 2:90, 3:105, 4:128, 5:134.
    expect(Object.fromEntries(levels)).toEqual({ '1': 43, '2': 90, '3': 105, '4': 128, '5': 134 });
    expect(items.filter((item) => item.tags.subject === 'Geometry')).toHaveLength(41);
    expect(new Set(items.map((item) => item.id)).size).toBe(500);
  });

  it('loads AIME 2024 from either file with the same answers', async () => {
    const qwen = await aime2024.load({ path: join(shared.dir, 'aime2024', 'test.jsonl') });
    const qwq = await aime2024.load({ path: join(shared.dir, 'aime2024', 'aime24.jsonl') });
    expect(qwen).toHaveLength(30);
    expect(qwq).toHaveLength(30);
    expect(qwen.map((item) => Number(item.reference))).toEqual(qwq.map((item) => Number(item.reference)));
    expect(qwen[0]?.reference).toBe('204');
    expect(qwq[0]?.variables.problem).not.toContain('\\boxed{}');
  });

  it('loads AIME 2025 with parts I and II', async () => {
    const items = await aime2025.load({ path: join(shared.dir, 'aime2025') });
    expect(items.map((item) => item.reference)).toEqual(
      '70,588,16,117,279,504,821,77,62,81,259,510,204,60,735,468,49,82,106,336,293,237,610,149,907,113,19,248,104,240'.split(','),
    );
    expect(items.filter((item) => item.tags.part === 'II')).toHaveLength(15);
  });
});

describe('dataset validation', () => {
  it('names the file and line of a bad record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aipo-ds-'));
    const good = { problem: 'p', answer: '1', subject: 'Algebra', level: 1, unique_id: 'a' };
    writeFileSync(join(dir, 'test.jsonl'), `${JSON.stringify(good)}\n\n${JSON.stringify({ ...good, answer: 7 })}\n`);
    await expect(math500.load({ path: dir })).rejects.toThrow(`${join(dir, 'test.jsonl')}:3: invalid record at "answer"`);
    writeFileSync(join(dir, 'test.jsonl'), `${JSON.stringify(good)}\n{"problem": "p",\n`);
    await expect(math500.load({ path: dir })).rejects.toMatchObject({ code: 'INVALID_DATASET', details: { line: 2 } });
  });

  it('says which files a directory lacks and rejects unknown formats', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aipo-ds-'));
    await expect(math500.load({ path: dir })).rejects.toThrow(/holds none of test\.jsonl/);
    await expect(math500.load({ path: join(dir, 'missing') })).rejects.toMatchObject({ code: 'IO_ERROR' });
    writeFileSync(join(dir, 'x.txt'), 'hello');
    await expect(math500.load({ path: join(dir, 'x.txt') })).rejects.toMatchObject({ code: 'INVALID_DATASET' });
  });
});
