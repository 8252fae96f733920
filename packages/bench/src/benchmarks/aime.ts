import { z } from 'zod';
import type { Benchmark, BenchItem } from '../benchmark';
import { type DatasetFiles, readDatasetFiles } from '../datasets/read-dataset-files';
import { validateRecords } from '../datasets/validate-records';
import { mathAnswerVoting } from '../metrics/vote-by-equivalence';
import { mathTemplate, stripMathSuffix } from '../prompts/math-template';

/**
 * AIME records come in three shapes: Qwen2.5-Math/H4 (`problem`, `answer` string with leading
 * zeros), QwQ (`prompt` with the boxed instruction, integer `answer`), and OpenCompass (`question`).
 */
const recordSchema = z
  .object({
    id: z.union([z.string(), z.number()]).optional(),
    problem: z.string().min(1).optional(),
    question: z.string().min(1).optional(),
    prompt: z.string().min(1).optional(),
    answer: z.union([z.string().min(1), z.number().int()]),
  })
  .refine((record) => record.problem ?? record.question ?? record.prompt, { message: 'needs "problem", "question" or "prompt"' });

function aime({ year, files }: { year: number; files: DatasetFiles }): Benchmark {
  return {
    id: `aime${year}`,
    description: `AIME ${year} I + II: 30 problems, integer answers 0-999, report mean@n over many samples`,
    graderId: 'math',
    templates: { default: mathTemplate },
    answerVoting: mathAnswerVoting,
    breakdowns: ['part'],
    async load(options = {}) {
      const records = validateRecords(recordSchema, await readDatasetFiles({ files, options }));
      return records.map(({ value }, index): BenchItem => {
        const problem = value.problem ?? value.question ?? stripMathSuffix(value.prompt ?? '');
        // Files list part I (problems 1-15) before part II (16-30).
        return {
          id: value.id === undefined ? `aime${year}-${index + 1}` : String(value.id),
          variables: { problem },
          reference: String(value.answer),
          tags: { part: index < records.length / 2 ? 'I' : 'II' },
        };
      });
    },
  };
}

/**
 * AIME 2024 files. The local names are the Qwen2.5-Math and QwQ copies (datasets/aime2024/SOURCE.md);
 * the hub id is not named in the reference notes, so it is unverified here (see the README).
 */
export const AIME2024_FILES: DatasetFiles = {
  hub: [{ repo: 'HuggingFaceH4/aime_2024', path: 'data/train-00000-of-00001.parquet' }],
  localNames: ['test.jsonl', 'aime24.jsonl'],
};

/** AIME 2025 files: QwQ's `aime25.jsonl` locally (datasets/aime2025/SOURCE.md); hub id unverified, as for 2024. */
export const AIME2025_FILES: DatasetFiles = {
  hub: [
    { repo: 'opencompass/AIME2025', path: 'aime2025-I.jsonl' },
    { repo: 'opencompass/AIME2025', path: 'aime2025-II.jsonl' },
  ],
  localNames: ['aime25.jsonl', 'test.jsonl'],
};

export const aime2024 = aime({ year: 2024, files: AIME2024_FILES });

export const aime2025 = aime({ year: 2025, files: AIME2025_FILES });
