import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunSummary, sampleSeed } from '@aipo/bench';
import { type OpenAiServer, startOpenAiServer } from '@aipo/bench/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerSkipReason } from './helpers/docker-available';
import { runCli } from './helpers/run-cli';

const skipReason = await dockerSkipReason();

interface Problem {
  record: Record<string, string>;
  right: string;
  wrong: string;
}

const tests = (cases: Array<[string, string]>, testtype: 'stdin' | 'functional') => JSON.stringify(cases.map(([input, output]) => ({ input, output, testtype })));

/** Three problems in code_generation_lite's record format (all fields strings), with our own tests. */
const PROBLEMS: Problem[] = [
  {
    record: {
      question_title: 'Sum of Two',
      question_content: 'Given integers A and B on one line, print A+B.',
      platform: 'atcoder',
      question_id: 'abc999_a',
      contest_id: 'abc999',
      contest_date: '2024-09-01T00:00:00',
      starter_code: '',
      difficulty: 'easy',
      public_test_cases: tests([['1 2\n', '3\n']], 'stdin'),
      private_test_cases: tests([['-5 5\n', '0\n'], ['1000000000 1000000000\n', '2000000000\n']], 'stdin'),
      metadata: '{}',
    },
    right: 'a, b = map(int, input().split())\nprint(a + b)',
    wrong: 'a, b = map(int, input().split())\nprint(a - b)',
  },
  {
    record: {
      question_title: 'Count Lines',
      question_content: 'Given N and then N words, print the words in reverse order, one per line.',
      platform: 'atcoder',
      question_id: 'abc999_b',
      contest_id: 'abc999',
      contest_date: '2024-09-01T00:00:00',
      starter_code: '',
      difficulty: 'medium',
      public_test_cases: tests([['3\na\nb\nc\n', 'c\nb\na\n']], 'stdin'),
      private_test_cases: tests([['1\nz\n', 'z\n']], 'stdin'),
      metadata: '{}',
    },
    right: 'import sys\nn = int(sys.stdin.readline())\nwords = [sys.stdin.readline().strip() for _ in range(n)]\nprint("\\n".join(reversed(words)))',
    wrong: 'import sys\nn = int(sys.stdin.readline())\nwords = [sys.stdin.readline().strip() for _ in range(n)]\nprint("\\n".join(words))',
  },
  {
    record: {
      question_title: 'max-pair-sum',
      question_content: 'Given an integer array nums, return the largest sum of two distinct elements.',
      platform: 'leetcode',
      question_id: '9999',
      contest_id: 'weekly-contest-999',
      contest_date: '2024-10-05T00:00:00',
      starter_code: 'class Solution:\n    def maxPairSum(self, nums: List[int]) -> int:\n        ',
      difficulty: 'hard',
      public_test_cases: tests([['[1, 5, 3]', '8']], 'functional'),
      private_test_cases: tests([['[-1, -2]', '-3'], ['[7, 7, 1]', '14']], 'functional'),
      metadata: '{"func_name": "maxPairSum"}',
    },
    right: 'class Solution:\n    def maxPairSum(self, nums: List[int]) -> int:\n        nums = sorted(nums)\n        return nums[-1] + nums[-2]',
    wrong: 'class Solution:\n    def maxPairSum(self, nums: List[int]) -> int:\n        return max(nums) * 2',
  },
];

const N = 2;
const SEED = 7;
const isRight = (seed: number): boolean => seed % 2 === 0;

describe.skipIf(skipReason !== undefined)('LiveCodeBench end to end through the Docker grader', () => {
  let server: OpenAiServer;
  beforeAll(async () => {
    server = await startOpenAiServer({
      respond: ({ prompt, seed }) => {
        const problem = PROBLEMS.find((candidate) => prompt.includes(candidate.record.question_content as string));
        if (problem === undefined || seed === undefined) return { kind: 'status', status: 404 };
        return { kind: 'reply', content: `<think>plan</think>\nHere is the program.\n\`\`\`python\n${isRight(seed) ? problem.right : problem.wrong}\n\`\`\`\n` };
      },
    });
  });
  afterAll(() => server.close());

  it('samples, grades in the sandbox, and scores stdin and functional problems exactly', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aipo-e2e-lcb-data-'));
    writeFileSync(join(dataDir, 'test.jsonl'), `${PROBLEMS.map((problem) => JSON.stringify(problem.record)).join('\n')}\n`);
    const output = mkdtempSync(join(tmpdir(), 'aipo-e2e-lcb-'));
    const result = await runCli([
      'bench', 'run', 'livecodebench', '--dataset', `livecodebench=${dataDir}`, '--release', 'release_v1', '--since', '2024-08-01',
      '--model', 'recorded', '--base-url', server.url, '-n', String(N), '--seed', String(SEED), '--output', output, '--format', 'json,junit',
    ]);
    expect(result.stderr).not.toContain('Error');
    expect(result.code).toBe(0);
    const summary = (JSON.parse(readFileSync(join(output, 'summary.json'), 'utf8')) as { summaries: RunSummary[] }).summaries[0] as RunSummary;
    const expected = PROBLEMS.map((problem) => Array.from({ length: N }, (_, sampleIndex) => sampleSeed({ seed: SEED, itemId: problem.record.question_id as string, sampleIndex })).filter(isRight).length);
    // Seed 7 gives every problem one right and one wrong program, so both verdicts are exercised.
    expect(expected).toEqual([1, 1, 1]);
    expect(summary.perProblem.map((problem) => [problem.id, problem.correct])).toEqual(PROBLEMS.map((problem, index) => [problem.record.question_id, expected[index]]));
    expect(summary.samples).toMatchObject({ total: PROBLEMS.length * N, errors: 0 });
    expect(summary.breakdowns.difficulty?.map(({ group }) => group)).toEqual(['easy', 'hard', 'medium']);
    expect(summary.breakdowns.platform?.map(({ group }) => group)).toEqual(['atcoder', 'leetcode']);
  }, 240_000);

  it('`aipo grade code` runs a one-off Python program and a batch against LiveCodeBench-format tests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aipo-e2e-grade-code-'));
    const first = PROBLEMS[0] as Problem;
    writeFileSync(join(dir, 'prog.py'), first.right);
    writeFileSync(join(dir, 'tests.json'), first.record.private_test_cases as string);
    const one = await runCli(['grade', 'code', '--code', join(dir, 'prog.py'), '--tests', join(dir, 'tests.json')]);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ pass: true, score: 1 });
    const third = PROBLEMS[2] as Problem;
    const batch = [
      { id: 'right', code: third.right, language: 'python', fn_name: 'maxPairSum', tests: JSON.parse(third.record.private_test_cases as string) },
      { id: 'wrong', code: third.wrong, language: 'python', fn_name: 'maxPairSum', tests: JSON.parse(third.record.private_test_cases as string) },
    ];
    const many = await runCli(['grade', 'code', '--input', '-', '--output', '-'], { stdin: `${batch.map((line) => JSON.stringify(line)).join('\n')}\n` });
    expect(many.code).toBe(0);
    expect(many.stdout.trim().split('\n').map((line) => [JSON.parse(line).id, JSON.parse(line).pass])).toEqual([
      ['right', true],
      ['wrong', false],
    ]);
  }, 120_000);
});
