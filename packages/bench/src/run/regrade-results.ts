import { readFile } from 'node:fs/promises';
import { AipoError } from '@aipo/core';
import type { Grader } from '@aipo/graders';
import type { BenchItem } from '../benchmark';
import { type AnswerVoting, voteByEquivalence } from '../metrics/vote-by-equivalence';
import type { GradeRecord, RunHeader, SampleRecord } from './result-records';
import { parseResults } from './results-file';
import { type SampleVerdict, toVerdict } from './sample-verdict';

/** Read a results file's header (to reload the dataset the run used). */
export async function readResultsHeader(path: string): Promise<RunHeader> {
  const { records } = parseResults(await readText(path), path);
  const header = records.find((record): record is RunHeader => record.type === 'run');
  if (header === undefined) throw new AipoError({ code: 'CORRUPT_STATE', message: `${path} has no run header line`, details: { path } });
  return header;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new AipoError({ code: 'IO_ERROR', message: `cannot read ${path}`, cause: error, details: { path } });
  }
}

/**
 * Grade the saved replies of a results file again (a fixed grader, another grader) without
 * calling any model. Samples are matched to items by id; the latest reply per key wins.
 */
export async function regradeResults({ path, items, grader, concurrency = 4, signal, voting }: {
  path: string;
  items: readonly BenchItem[];
  grader: Grader;
  concurrency?: number;
  signal?: AbortSignal;
  /** group equivalent answers for maj@k (a benchmark's `answerVoting`) */
  voting?: AnswerVoting;
}): Promise<{ header: RunHeader; verdicts: SampleVerdict[] }> {
  const { records } = parseResults(await readText(path), path);
  const header = records.find((record): record is RunHeader => record.type === 'run');
  if (header === undefined) throw new AipoError({ code: 'CORRUPT_STATE', message: `${path} has no run header line`, details: { path } });
  const latest = new Map<string, SampleRecord>();
  for (const record of records) if (record.type === 'sample') latest.set(record.key, record);
  const references = new Map(items.map((item, index) => [item.id, { reference: item.reference, index }]));
  const samples = [...latest.values()]
    .filter((sample) => references.has(sample.itemId))
    .sort((left, right) => (references.get(left.itemId)?.index ?? 0) - (references.get(right.itemId)?.index ?? 0) || left.sampleIndex - right.sampleIndex);
  const verdicts: SampleVerdict[] = new Array(samples.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < samples.length) {
        const index = next++;
        const sample = samples[index] as SampleRecord;
        let grade: GradeRecord | undefined;
        if (sample.status === 'ok') {
          const result = await grader.grade({ output: sample.output ?? '', reference: references.get(sample.itemId)?.reference, ...(signal ? { signal } : {}) });
          grade = { type: 'grade', key: sample.key, itemId: sample.itemId, sampleIndex: sample.sampleIndex, ...result };
        }
        verdicts[index] = toVerdict(sample, grade);
      }
    }),
  );
  return { header, verdicts: voting === undefined ? verdicts : await voteByEquivalence({ verdicts, voting }) };
}
