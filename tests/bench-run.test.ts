import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '@aipo/bench';
import { type OpenAiServer, startOpenAiServer } from '@aipo/bench/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedCorrect, math500Recordings, meanAtN, readMath500, DATASETS } from './helpers/math500-recordings';
import { runCli } from './helpers/run-cli';
import { datasetsAvailable } from './helpers/shared-datasets';

const available = datasetsAvailable();
const PROBLEMS = 40;
const N = 4;
const SEED = 11;

describe.skipIf(!available)('aipo bench run over HTTP against recorded MATH500 generations', () => {
  let server: OpenAiServer;
  const records = available ? readMath500(PROBLEMS) : [];
  beforeAll(async () => {
    server = await startOpenAiServer({ respond: math500Recordings(records) });
  });
  afterAll(() => server.close());

  it('reports exactly the scores the recordings imply, in every output format', async () => {
    const output = mkdtempSync(join(tmpdir(), 'aipo-e2e-'));
    const result = await runCli([
      'bench', 'run', 'math500', '--model', 'recorded', '--base-url', server.url, '--data-dir', DATASETS,
      '--limit', String(PROBLEMS), '-n', String(N), '--seed', String(SEED), '--temperature', '0.6', '--output', output, '--min-score', 'math500=0.5',
    ]);
    expect(result.stderr).not.toContain('Error');
    expect(result.code).toBe(0);
    const correct = expectedCorrect({ records, n: N, seed: SEED });
    const { summaries } = JSON.parse(readFileSync(join(output, 'summary.json'), 'utf8')) as { summaries: RunSummary[] };
    const summary = summaries[0] as RunSummary;
    expect(summary.perProblem.map((problem) => problem.correct)).toEqual(correct);
    expect(summary.pass1.value).toBeCloseTo(meanAtN(correct, N), 12);
    expect(summary.passAtK.at(-1)?.value).toBeCloseTo(correct.filter((count) => count > 0).length / PROBLEMS, 12);
    expect(summary.samples).toMatchObject({ total: PROBLEMS * N, graded: PROBLEMS * N, errors: 0, parseFailed: 0 });
    expect(server.stats.reply).toBe(PROBLEMS * N);
    expect(result.stdout).toContain('math500');
    const junit = readFileSync(join(output, 'junit.xml'), 'utf8');
    expect(junit.match(/<testcase /g)).toHaveLength(PROBLEMS);
    expect(junit.match(/<failure /g)?.length ?? 0).toBe(correct.filter((count) => count === 0).length);
    expect(readFileSync(join(output, 'report.html'), 'utf8')).toContain('<svg');
    expect(readFileSync(join(output, 'report.md'), 'utf8')).toContain(`| math500 | recorded | ${PROBLEMS}/${PROBLEMS} | ${N} |`);

    // Re-grading the saved generations gives the same verdicts without any request.
    const before = server.stats.reply;
    const regrade = await runCli(['bench', 'grade', join(output, 'math500.results.jsonl'), '--output', join(output, 'regraded')]);
    expect(regrade.code).toBe(0);
    const regraded = JSON.parse(readFileSync(join(output, 'regraded', 'summary.json'), 'utf8')) as { summaries: RunSummary[] };
    expect(regraded.summaries[0]?.perProblem).toEqual(summary.perProblem);
    expect(server.stats.reply).toBe(before);

    // CI gate: the same run against an impossible threshold exits 100.
    const gated = await runCli(['bench', 'report', join(output, 'summary.json'), '--output', join(output, 'again'), '--min-score', '0.99']);
    expect(gated.code).toBe(100);
    expect(gated.stderr).toContain('below --min-score');
  });

  it('fails with a clear error and exit 1 on bad flags or a bad config', async () => {
    const noModel = await runCli(['bench', 'run', 'math500', '--base-url', server.url]);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toContain('--model is required');
    const badNumber = await runCli(['bench', 'run', 'math500', '--model', 'm', '--base-url', server.url, '-n', 'two']);
    expect(badNumber.code).toBe(1);
    expect(badNumber.stderr).toContain('--samples wants an integer');
    const dir = mkdtempSync(join(tmpdir(), 'aipo-e2e-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'c.yaml'), 'model: m\nsampels: 3\n');
    const badConfig = await runCli(['bench', 'run', 'math500', '--config', join(dir, 'c.yaml')]);
    expect(badConfig.code).toBe(1);
    expect(badConfig.stderr).toMatch(/c\.yaml.*sampels|INVALID_CONFIG/);
    const unknown = await runCli(['bench', 'run', 'nope', '--model', 'm', '--base-url', server.url]);
    expect(unknown.stderr).toContain('unknown benchmark "nope"');
  });
});
