import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AipoError } from '@aipo/core';
import { z } from 'zod';
import type { Benchmark, LoadOptions } from '../benchmark';
import { downloadHubFile, hubOptionsFrom } from '../datasets/download-hub-file';
import { readRecords, type SourcedRecord } from '../datasets/read-records';
import { validateRecords } from '../datasets/validate-records';

/** The hub dataset lcb_runner reads by default (eval.md §1.3, datasets/livecodebench/SOURCE.md). */
export const LIVECODEBENCH_REPO = 'livecodebench/code_generation_lite';
const FILES = ['test.jsonl', 'test2.jsonl', 'test3.jsonl', 'test4.jsonl', 'test5.jsonl', 'test6.jsonl'] as const;

/**
 * Release tags of code_generation_lite (its loader's ALLOWED_FILES): `release_vN` is cumulative
 * (test.jsonl … testN.jsonl), `vN` selects only that release's new file, `vA_vB` a range of new files.
 */
export function livecodebenchFiles(release = 'release_latest'): string[] {
  if (release === 'release_latest') return [...FILES];
  const cumulative = /^release_v([1-6])$/.exec(release);
  if (cumulative) return FILES.slice(0, Number(cumulative[1]));
  const single = /^v([1-6])$/.exec(release);
  if (single) return [FILES[Number(single[1]) - 1] as string];
  const range = /^v([1-6])_v([1-6])$/.exec(release);
  if (range && Number(range[1]) <= Number(range[2])) return FILES.slice(Number(range[1]) - 1, Number(range[2]));
  throw new AipoError({
    code: 'INVALID_ARGUMENT',
    message: `unknown LiveCodeBench release "${release}" (use release_v1…release_v6, release_latest, v1…v6 or vA_vB)`,
    details: { release },
  });
}

const testCaseSchema = z.object({ input: z.string(), output: z.string(), testtype: z.enum(['stdin', 'functional']) });

const recordSchema = z.object({
  question_title: z.string().default(''),
  question_content: z.string().min(1),
  platform: z.string(),
  question_id: z.string().min(1),
  contest_id: z.string().default(''),
  contest_date: z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'not an ISO date'),
  starter_code: z.string().default(''),
  difficulty: z.string(),
  public_test_cases: z.string(),
  private_test_cases: z.string(),
  metadata: z.string().default('{}'),
});

export type LiveCodeBenchTest = z.infer<typeof testCaseSchema>;

/** LiveCodeBench's grading reference: public tests first, then private ones (lcb_runner order). */
export interface LiveCodeBenchReference {
  tests: LiveCodeBenchTest[];
  fn_name?: string;
}

const SYSTEM_GENERIC =
  'You are an expert Python programmer. You will be given a question (problem specification) and will generate a correct Python program that matches the specification and passes all tests.';
const FORMAT_STARTER = 'You will use the following starter code to write the solution to the problem and enclose your code within delimiters.';
const FORMAT_STDIN =
  'Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on the sample inputs). Enclose your code within delimiters as follows. Ensure that when the python program runs, it reads the inputs, runs the algorithm and writes output to STDOUT.';

function formatBlock(starterCode: string): string {
  return starterCode.trim() === ''
    ? `${FORMAT_STDIN}\n\`\`\`python\n# YOUR CODE HERE\n\`\`\`\n\n`
    : `${FORMAT_STARTER}\n\`\`\`python\n${starterCode}\n\`\`\`\n\n`;
}

async function readLocal(path: string, names: string[]): Promise<SourcedRecord[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (error) {
    throw new AipoError({ code: 'IO_ERROR', message: `dataset path ${path} does not exist`, cause: error, details: { path } });
  }
  if (!info.isDirectory()) return readRecords({ file: path, bytes: await readFile(path) });
  const present = new Set(await readdir(path));
  const files = names.filter((name) => present.has(name));
  if (files.length === 0) {
    throw new AipoError({ code: 'IO_ERROR', message: `dataset directory ${path} holds none of ${names.join(', ')}`, details: { path } });
  }
  const records: SourcedRecord[] = [];
  for (const name of files) records.push(...(await readRecords({ file: join(path, name), bytes: await readFile(join(path, name)) })));
  return records;
}

function parseTests({ text, file, line, decode }: { text: string; file: string; line: number; decode: (payload: string) => unknown }): LiveCodeBenchTest[] {
  let value: unknown;
  try {
    value = text.trim().startsWith('[') ? JSON.parse(text) : decode(text);
  } catch (error) {
    throw new AipoError({ code: 'INVALID_DATASET', message: `${file}:${line}: test cases do not decode (${String(error)})`, cause: error, details: { file, line } });
  }
  const parsed = z.array(testCaseSchema).safeParse(value);
  if (!parsed.success) {
    throw new AipoError({ code: 'INVALID_DATASET', message: `${file}:${line}: malformed test cases (${parsed.error.issues[0]?.message})`, details: { file, line } });
  }
  return parsed.data;
}

function parseMetadata(text: string): unknown {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return {};
  }
}

function inWindow(date: string, options: LoadOptions): boolean {
  const day = date.slice(0, 10);
  return (options.since === undefined || day >= options.since) && (options.until === undefined || day <= options.until);
}

/**
 * LiveCodeBench code generation (Jain et al. 2024, lcb_runner @ 28fef95): AtCoder/Codeforces stdin
 * problems and LeetCode functional ones, filtered by release and by an inclusive contest-date window.
 */
export const livecodebench: Benchmark = {
  id: 'livecodebench',
  description: 'LiveCodeBench code generation: --release release_v1…v6 and --since/--until date windows; graded in Docker',
  graderId: 'code-python',
  templates: {
    default: { system: SYSTEM_GENERIC, user: '### Question:\n{question}\n\n### Format: {format}### Answer: (use the provided format with backticks)\n\n' },
    reasoning: {
      user: 'You will be given a question (problem specification) and will generate a correct Python program that matches the specification and passes all tests.\n\nQuestion: {question}\n\n{format}',
    },
  },
  breakdowns: ['difficulty', 'platform'],
  async load(options = {}) {
    for (const [name, day] of [['since', options.since], ['until', options.until]] as const) {
      if (day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(day)) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `--${name} must be YYYY-MM-DD, got "${day}"`, details: { [name]: day } });
      }
    }
    const names = livecodebenchFiles(options.release);
    let raw: SourcedRecord[];
    if (options.path !== undefined) raw = await readLocal(options.path, names);
    else {
      raw = [];
      for (const path of names) {
        const { path: file, bytes } = await downloadHubFile({ repo: LIVECODEBENCH_REPO, path }, hubOptionsFrom(options));
        raw.push(...(await readRecords({ file, bytes })));
      }
    }
    const { decodePrivateTestCases } = await import('@aipo/graders/docker');
    const decode = (payload: string): unknown => decodePrivateTestCases(payload);
    return validateRecords(recordSchema, raw)
      .filter(({ value }) => inWindow(value.contest_date, options))
      .map(({ file, line, value }) => {
        const metadata = z.object({ func_name: z.string().optional() }).safeParse(parseMetadata(value.metadata));
        const tests = [
          ...parseTests({ text: value.public_test_cases, file, line, decode }),
          ...parseTests({ text: value.private_test_cases || '[]', file, line, decode }),
        ];
        const fnName = metadata.success ? metadata.data.func_name : undefined;
        const reference: LiveCodeBenchReference = fnName === undefined ? { tests } : { tests, fn_name: fnName };
        return {
          id: value.question_id,
          variables: { question: value.question_content, title: value.question_title, starter_code: value.starter_code, format: formatBlock(value.starter_code) },
          reference,
          tags: { difficulty: value.difficulty, platform: value.platform, contest_date: value.contest_date.slice(0, 10) },
        };
      });
  },
};
