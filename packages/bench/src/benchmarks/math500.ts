import { z } from 'zod';
import type { Benchmark } from '../benchmark';
import { type DatasetFiles, readDatasetFiles } from '../datasets/read-dataset-files';
import { validateRecords } from '../datasets/validate-records';
import { mathAnswerVoting } from '../metrics/vote-by-equivalence';
import { mathTemplate } from '../prompts/math-template';

const recordSchema = z.object({
  problem: z.string().min(1),
  answer: z.string(),
  subject: z.string(),
  level: z.union([z.number().int(), z.string()]),
  unique_id: z.string().min(1),
});

/**
 * Where MATH-500 comes from: the hub copy that lm-eval's `minerva_math500` and lighteval read
 * (eval.md §2.5, datasets/math500/SOURCE.md), or the PRM800K `test.jsonl` in a local folder.
 */
export const MATH500_FILES: DatasetFiles = { hub: [{ repo: 'HuggingFaceH4/MATH-500', path: 'test.jsonl' }], localNames: ['test.jsonl'] };

/** MATH-500: the PRM800K held-out split of Hendrycks MATH (Lightman et al. 2023), 500 problems. */
export const math500: Benchmark = {
  id: 'math500',
  description: 'MATH-500 (PRM800K test split): 500 competition math problems, boxed answers, by subject and level',
  graderId: 'math',
  templates: { default: mathTemplate },
  answerVoting: mathAnswerVoting,
  breakdowns: ['subject', 'level'],
  async load(options = {}) {
    const records = await readDatasetFiles({
      files: MATH500_FILES,
      options,
    });
    return validateRecords(recordSchema, records).map(({ value }) => ({
      id: value.unique_id,
      variables: { problem: value.problem },
      reference: value.answer,
      tags: { subject: value.subject, level: String(value.level) },
    }));
  },
};
