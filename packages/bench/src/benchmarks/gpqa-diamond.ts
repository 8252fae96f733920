import { readFile } from 'node:fs/promises';
import { formatMultipleChoicePrompt, shuffleChoices } from '@aipo/graders';
import { z } from 'zod';
import type { Benchmark, LoadOptions } from '../benchmark';
import { downloadHubFile, hubOptionsFrom } from '../datasets/download-hub-file';
import { parseCsv } from '../datasets/parse-csv';
import { resolveLocal } from '../datasets/read-dataset-files';
import type { SourcedRecord } from '../datasets/read-records';
import { readZipEntry } from '../datasets/read-zip-entry';
import { validateRecords } from '../datasets/validate-records';

/** Published in the idavidrein/gpqa README: "dataset.zip ... is password-protected with this password". */
export const GPQA_ZIP_PASSWORD = 'deserted-untie-orchid';

const recordSchema = z.object({
  Question: z.string().min(1),
  'Correct Answer': z.string().min(1),
  'Incorrect Answer 1': z.string().min(1),
  'Incorrect Answer 2': z.string().min(1),
  'Incorrect Answer 3': z.string().min(1),
  'Record ID': z.string().min(1),
  'High-level domain': z.string().default(''),
  Subdomain: z.string().default(''),
});

/** The Diamond table inside the official `dataset.zip` (datasets/gpqa/SOURCE.md lists its members). */
export const GPQA_DIAMOND_ZIP_ENTRY = 'dataset/gpqa_diamond.csv';

/** The gated hub copy of the same CSV (same columns as the zip member). */
export const GPQA_DIAMOND_HUB_FILE = { repo: 'Idavidrein/gpqa', path: 'gpqa_diamond.csv' } as const;

async function readGpqaRecords(options: LoadOptions): Promise<SourcedRecord[]> {
  let file: string;
  let text: string;
  if (options.path !== undefined) {
    file = await resolveLocal(options.path, ['dataset.zip', 'gpqa_diamond.csv']);
    const bytes = await readFile(file);
    text = file.endsWith('.zip')
      ? await readZipEntry({ bytes, entry: GPQA_DIAMOND_ZIP_ENTRY, password: GPQA_ZIP_PASSWORD, file })
      : bytes.toString('utf8');
  } else {
    const downloaded = await downloadHubFile(GPQA_DIAMOND_HUB_FILE, hubOptionsFrom(options));
    file = downloaded.path;
    text = new TextDecoder().decode(downloaded.bytes);
  }
  return parseCsv(text).map(({ line, row }) => ({ file, line, value: row }));
}

/**
 * GPQA-Diamond (Rein et al. 2023), 198 graduate-level science questions, prompted with the
 * simple-evals multiple-choice template. The four choices are shuffled with a seed per item so
 * the gold letter is uniform and runs are reproducible.
 */
export const gpqaDiamond: Benchmark = {
  id: 'gpqa-diamond',
  description: 'GPQA-Diamond: 198 graduate-level science questions, 4 seeded-shuffled choices (gated on the hub: set HF_TOKEN)',
  graderId: 'multiple-choice',
  templates: { default: { user: '{prompt}' } },
  breakdowns: ['domain', 'subdomain'],
  async load(options = {}) {
    const records = validateRecords(recordSchema, await readGpqaRecords(options));
    return records.map(({ value }) => {
      const { choices, goldLetter } = shuffleChoices({
        correct: value['Correct Answer'].trim(),
        incorrect: [value['Incorrect Answer 1'].trim(), value['Incorrect Answer 2'].trim(), value['Incorrect Answer 3'].trim()],
        seed: options.seed ?? 0,
        itemId: value['Record ID'],
      });
      const question = value.Question.trim();
      const letters = Object.fromEntries(choices.map((choice: string, index: number) => [String.fromCharCode(65 + index), choice]));
      return {
        id: value['Record ID'],
        variables: { prompt: formatMultipleChoicePrompt(question, choices), question, ...letters },
        reference: goldLetter,
        tags: { domain: value['High-level domain'], subdomain: value.Subdomain },
      };
    });
  },
};
