import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createMathGrader } from './math-grader';
import { MathPool } from './math-pool';

// ../shared/datasets next to the repository (read-only, never copied in)
const DATASETS = fileURLToPath(new URL('../../../../../shared/datasets/', import.meta.url));
const available = existsSync(DATASETS);
if (!available) {
  if (process.env.CI) throw new Error(`datasets folder ${DATASETS} is missing and CI is set`);
  console.warn(`skipping the MATH500/AIME agreement tests: ${DATASETS} is absent`);
}

function readJsonl<T>(relative: string): T[] {
  return readFileSync(`${DATASETS}${relative}`, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

const pool = new MathPool({ size: 2, timeoutMs: 5000 });
afterAll(() => pool.close());
const grader = createMathGrader({ pool });

describe.runIf(available)('agreement with the datasets', () => {
  // Each reference `answer` must be recovered from its own `solution` text and graded correct.
  // Reached 500/500; asserted exactly so any regression fails.
  it('MATH500: every reference answer extracted from its solution grades correct (500/500)', async () => {
    const rows = readJsonl<{ solution: string; answer: string; unique_id: string }>('math500/test.jsonl');
    expect(rows).toHaveLength(500);
    const failures: string[] = [];
    for (const row of rows) {
      const result = await grader.grade({ output: row.solution, reference: row.answer });
      if (!result.pass) failures.push(`${row.unique_id}: ${row.answer} vs ${String(result.details.extracted)} (${result.reason})`);
    }
    console.info(`MATH500 self-agreement: ${rows.length - failures.length}/${rows.length}`);
    expect(failures).toEqual([]);
  }, 120_000);

  it('MATH500: no reference answer grades correct against the next problem’s solution (500 negatives)', async () => {
    const rows = readJsonl<{ solution: string; answer: string }>('math500/test.jsonl');
    const wrongPasses: string[] = [];
    let comparable = 0;
    for (const [index, row] of rows.entries()) {
      const other = rows[(index + 1) % rows.length];
      // the same value written as an assignment (`x=5` vs `5`) is a legitimate match, not a negative
      if (other === undefined || other.answer.replace(/^[a-z]\s*=\s*/, '') === row.answer) continue;
      comparable++;
      const result = await grader.grade({ output: other.solution, reference: row.answer });
      if (result.pass) wrongPasses.push(`${row.answer} vs ${other.answer}`);
    }
    expect(comparable).toBeGreaterThan(480);
    expect(wrongPasses).toEqual([]);
  }, 60_000);

  it('AIME 2024 and 2025: integer answers, boxed with leading zeros or as decimals, grade correct; off-by-one fails', async () => {
    const items = [
      ...readJsonl<{ answer: number }>('aime2024/aime24.jsonl'),
      ...readJsonl<{ answer: number }>('aime2025/aime25.jsonl'),
      ...readJsonl<{ answer: string }>('aime2024/test.jsonl'),
    ];
    expect(items).toHaveLength(90);
    for (const { answer } of items) {
      const value = Number(answer);
      const padded = String(value).padStart(3, '0');
      for (const output of [`\\boxed{${padded}}`, `so the answer is $\\boxed{${value}.0}$`, `<think>\\boxed{1}</think> \\boxed{${value}}`]) {
        const result = await grader.grade({ output, reference: answer });
        expect(result.pass, `${answer} vs ${output}`).toBe(true);
      }
      expect((await grader.grade({ output: `\\boxed{${value + 1}}`, reference: answer })).pass).toBe(false);
    }
  }, 60_000);
});
