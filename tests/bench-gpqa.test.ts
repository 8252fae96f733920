import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchItem, gpqaDiamond, renderPrompt, type RunSummary, sampleSeed } from '@aipo/bench';
import { type OpenAiServer, startOpenAiServer } from '@aipo/bench/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASETS } from './helpers/math500-recordings';
import { runCli } from './helpers/run-cli';
import { datasetsAvailable } from './helpers/shared-datasets';

const available = datasetsAvailable();
const PROBLEMS = 30;
const SEED = 4;
const N = 2;
const isRight = (seed: number): boolean => seed % 3 !== 1;

describe.skipIf(!available)('aipo bench run gpqa-diamond from the official zip, over HTTP', () => {
  let server: OpenAiServer;
  let items: BenchItem[] = [];
  beforeAll(async () => {
    // The same seeded shuffle the CLI will do, read in memory here to script the replies.
    items = (await gpqaDiamond.load({ path: join(DATASETS, 'gpqa'), seed: SEED })).slice(0, PROBLEMS);
    const goldByPrompt = new Map(items.map((item) => [renderPrompt({ template: gpqaDiamond.templates.default, variables: item.variables }).at(-1)?.content, item.reference as string]));
    server = await startOpenAiServer({
      respond: ({ prompt, seed }) => {
        const gold = goldByPrompt.get(prompt);
        if (gold === undefined || seed === undefined) return { kind: 'status', status: 404 };
        const wrong = gold === 'A' ? 'B' : 'A';
        return { kind: 'reply', content: `Let me think.\nAnswer: ${isRight(seed) ? gold : wrong}` };
      },
    });
  });
  afterAll(() => server.close());

  it('scores the seeded-shuffled multiple choice exactly, with domain breakdowns', async () => {
    const output = mkdtempSync(join(tmpdir(), 'aipo-e2e-gpqa-'));
    const result = await runCli([
      'bench', 'run', 'gpqa-diamond', '--data-dir', DATASETS, '--limit', String(PROBLEMS), '--seed', String(SEED), '-n', String(N),
      '--model', 'recorded', '--base-url', server.url, '--output', output, '--format', 'json',
    ]);
    expect(result.code).toBe(0);
    const summary = (JSON.parse(readFileSync(join(output, 'summary.json'), 'utf8')) as { summaries: RunSummary[] }).summaries[0] as RunSummary;
    const expected = items.map((item) => Array.from({ length: N }, (_, sampleIndex) => sampleSeed({ seed: SEED, itemId: item.id, sampleIndex })).filter(isRight).length);
    expect(summary.perProblem.map((problem) => problem.correct)).toEqual(expected);
    expect(summary.samples).toMatchObject({ total: PROBLEMS * N, graded: PROBLEMS * N, errors: 0, parseFailed: 0 });
    expect(Object.keys(summary.breakdowns)).toEqual(['domain', 'subdomain']);
    expect(summary.breakdowns.domain?.reduce((sum, group) => sum + group.problems, 0)).toBe(PROBLEMS);
    // No question text reaches the results or the summary (GPQA's authors ask for that).
    const written = readFileSync(join(output, 'gpqa-diamond.results.jsonl'), 'utf8') + readFileSync(join(output, 'summary.json'), 'utf8');
    expect(items.some((item) => written.includes((item.variables.question as string).slice(0, 40)))).toBe(false);
  });
});
