import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedDatasets } from '../test/shared-datasets';
import { gpqaDiamond } from './gpqa-diamond';
import { livecodebench, livecodebenchFiles } from './livecodebench';

const shared = sharedDatasets();

describe.skipIf(!shared.available)('GPQA-Diamond from the official password-protected zip', () => {
  it('decrypts in memory, validates 198 records and shuffles choices reproducibly', async () => {
    const items = await gpqaDiamond.load({ path: join(shared.dir, 'gpqa'), seed: 0 });
    expect(items).toHaveLength(198);
    const again = await gpqaDiamond.load({ path: join(shared.dir, 'gpqa', 'dataset.zip'), seed: 0 });
    expect(again.map((item) => item.reference)).toEqual(items.map((item) => item.reference));
    const letters = new Map<string, number>();
    for (const item of items) letters.set(item.reference as string, (letters.get(item.reference as string) ?? 0) + 1);
    // A seeded uniform shuffle spreads the gold letter over A-D (each well away from 0 and 198).
    expect([...letters.keys()].sort()).toEqual(['A', 'B', 'C', 'D']);
    for (const count of letters.values()) expect(count).toBeGreaterThan(25);
    const first = items[0];
    expect(first?.variables.prompt).toMatch(/^Answer the following multiple choice question\./);
    expect(first?.variables.prompt).toContain(`${first?.reference}) `);
    expect(new Set(items.map((item) => item.tags.domain))).toEqual(new Set(['Physics', 'Chemistry', 'Biology']));
    const reseeded = await gpqaDiamond.load({ path: join(shared.dir, 'gpqa'), seed: 1 });
    expect(reseeded.map((item) => item.reference)).not.toEqual(items.map((item) => item.reference));
  });
});

// eval.md §1.2 test vector: base64 → zlib → pickle(str) → JSON list of four stdin tests.
const PRIVATE =
  'eJxrYJmaz8gABhEZQEZ0tVJmXkFpiZKVgpJhTF5iUnJMnpKOglJ+aQlUNNI1GCJUklpcUlJZkAoSLC5JycxTqtVRQNJuDNWOILAYhCCIMdI0Ji85MQloWjKQSE5KjMlLSgSam5SciG64nz+y2WACJESMJWYY7ibFG8T5KnaKHgAcinnp';

function lcbRecord(overrides: Record<string, unknown>) {
  return {
    question_title: 't',
    question_content: 'Print YES.',
    platform: 'codeforces',
    question_id: '1873_A',
    contest_id: '1873',
    contest_date: '2023-08-21T00:00:00',
    starter_code: '',
    difficulty: 'easy',
    public_test_cases: JSON.stringify([{ input: '1\nabc\n', output: 'YES\n', testtype: 'stdin' }]),
    private_test_cases: PRIVATE,
    metadata: '{}',
    ...overrides,
  };
}

describe('LiveCodeBench loader', () => {
  it('maps release tags to code_generation_lite files', () => {
    expect(livecodebenchFiles('release_v1')).toEqual(['test.jsonl']);
    expect(livecodebenchFiles('release_v3')).toEqual(['test.jsonl', 'test2.jsonl', 'test3.jsonl']);
    expect(livecodebenchFiles('release_latest')).toHaveLength(6);
    expect(livecodebenchFiles('v5')).toEqual(['test5.jsonl']);
    expect(livecodebenchFiles('v4_v5')).toEqual(['test4.jsonl', 'test5.jsonl']);
    expect(() => livecodebenchFiles('release_v9')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('decodes private tests, reads fn_name, filters by release and date window', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aipo-lcb-'));
    writeFileSync(join(dir, 'test.jsonl'), `${JSON.stringify(lcbRecord({}))}\n`);
    writeFileSync(
      join(dir, 'test2.jsonl'),
      `${JSON.stringify(
        lcbRecord({
          question_id: '3517',
          platform: 'leetcode',
          difficulty: 'medium',
          contest_date: '2024-05-04T00:00:00',
          starter_code: 'class Solution:\n    def add(self, a: int, b: int) -> int:\n        ',
          public_test_cases: JSON.stringify([{ input: '1\n2', output: '3', testtype: 'functional' }]),
          private_test_cases: '[]',
          metadata: '{"func_name": "add"}',
        }),
      )}\n`,
    );
    const v1 = await livecodebench.load({ path: dir, release: 'release_v1' });
    expect(v1).toHaveLength(1);
    expect(v1[0]?.reference).toMatchObject({ tests: [{ input: '1\nabc\n' }, { input: '1\nabc\n' }, {}, {}, { output: 'YES\nYES\nYES\nYES\nYES\nYES\n' }] });
    expect(v1[0]?.variables.format).toMatch(/^Read the inputs from stdin/);
    const both = await livecodebench.load({ path: dir, release: 'release_v2' });
    expect(both.map((item) => item.id)).toEqual(['1873_A', '3517']);
    expect(both[1]?.reference).toEqual({ tests: [{ input: '1\n2', output: '3', testtype: 'functional' }], fn_name: 'add' });
    expect(both[1]?.variables.format).toContain('def add(self, a: int, b: int)');
    expect((await livecodebench.load({ path: dir, release: 'release_v2', since: '2024-01-01' })).map((item) => item.id)).toEqual(['3517']);
    expect((await livecodebench.load({ path: dir, release: 'release_v2', until: '2023-08-21' })).map((item) => item.id)).toEqual(['1873_A']);
    await expect(livecodebench.load({ path: dir, since: '2024/01/01' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('rejects undecodable test cases naming file and line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aipo-lcb-'));
    writeFileSync(join(dir, 'test.jsonl'), `${JSON.stringify(lcbRecord({ private_test_cases: 'not-base64-zlib' }))}\n`);
    await expect(livecodebench.load({ path: dir, release: 'release_v1' })).rejects.toThrow(`${join(dir, 'test.jsonl')}:1:`);
  });
});
