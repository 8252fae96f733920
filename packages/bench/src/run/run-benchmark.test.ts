import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMathGrader, type Grader } from '@aipo/graders';
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchItem } from '../benchmark';
import { summarizeRun } from '../metrics/summarize-run';
import { mathAnswerVoting } from '../metrics/vote-by-equivalence';
import { type OpenAiServer, startOpenAiServer } from '../test/start-openai-server';
import { createSampler } from './create-sampler';
import { parseResults } from './results-file';
import { regradeResults } from './regrade-results';
import { runBenchmark } from './run-benchmark';
import { sampleSeed } from './sample-key';

/** A test double of the Grader interface: the text after "ANSWER:" must equal the reference. */
const exactGrader: Grader<string> = {
  id: 'exact',
  description: 'exact match after ANSWER:',
  async grade({ output, reference }) {
    const match = /ANSWER:(\S+)/.exec(output);
    if (!match) return { pass: false, score: 0, reason: 'no answer', parseFailed: true, details: {} };
    const pass = match[1] === reference;
    return { pass, score: pass ? 1 : 0, reason: pass ? 'equal' : 'different', details: { extracted: match[1] } };
  },
};

const items: BenchItem[] = Array.from({ length: 12 }, (_, index) => ({
  id: `p${index}`,
  variables: { problem: `problem ${index}` },
  reference: String(index),
  tags: { level: String(1 + (index % 3)) },
}));

/** Recorded generations: sample seeds divisible by 3 answer wrong, others right. */
const isRight = (seed: number): boolean => seed % 3 !== 0;
const answerFor = (prompt: string, seed: number): string => {
  const index = Number(/problem (\d+)/.exec(prompt)?.[1]);
  return `reasoning... ANSWER:${isRight(seed) ? index : index + 100}`;
};

let server: OpenAiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function header(n: number) {
  return { benchmark: 'toy', model: 'm', template: 'default', sampling: { temperature: 1 }, seed: 5, n, dataset: {} };
}

describe('runBenchmark', () => {
  it('scores recorded generations exactly and writes every reply and verdict', async () => {
    server = await startOpenAiServer({ respond: ({ prompt, seed }) => ({ kind: 'reply', content: answerFor(prompt, seed ?? 0) }) });
    const resultsPath = join(mkdtempSync(join(tmpdir(), 'aipo-run-')), 'results.jsonl');
    const events: string[] = [];
    const outcome = await runBenchmark({
      header: header(4),
      items,
      template: { user: '{problem}' },
      grader: exactGrader,
      sampler: createSampler({ baseURL: server.url, model: 'm', concurrency: 3 }),
      resultsPath,
      onProgress: (event) => events.push(event.phase),
    });
    const expected = items.map((item) => Array.from({ length: 4 }, (_, sampleIndex) => isRight(sampleSeed({ seed: 5, itemId: item.id, sampleIndex }))));
    expect(outcome.verdicts.map((verdict) => verdict.pass)).toEqual(expected.flat());
    const summary = summarizeRun({ benchmark: 'toy', model: 'm', n: 4, items, verdicts: outcome.verdicts, breakdowns: ['level'] });
    const perProblem = expected.map((passes) => passes.filter(Boolean).length / 4);
    expect(summary.pass1.value).toBeCloseTo(perProblem.reduce((sum, value) => sum + value, 0) / items.length, 12);
    expect(summary.passAtK.map(({ k }) => k)).toEqual([1, 2, 4]);
    expect(summary.passAtK[2]?.value).toBeCloseTo(expected.filter((passes) => passes.some(Boolean)).length / items.length, 12);
    const { records } = parseResults(readFileSync(resultsPath, 'utf8'), resultsPath);
    expect(records.filter((record) => record.type === 'sample')).toHaveLength(48);
    expect(records.filter((record) => record.type === 'grade')).toHaveLength(48);
    expect(records[0]).toMatchObject({ type: 'run', model: 'm', seed: 5, n: 4, sampling: { temperature: 1 }, versions: { node: process.version, '@aipo/bench': expect.any(String) } });
    expect(events).toContain('sampling');
    expect(events).toContain('grading');
  });

  it('resumes after a torn write without re-asking finished samples, ending with identical verdicts', async () => {
    server = await startOpenAiServer({ respond: ({ prompt, seed }) => ({ kind: 'reply', content: answerFor(prompt, seed ?? 0) }) });
    const dir = mkdtempSync(join(tmpdir(), 'aipo-run-'));
    const options = { header: header(2), items, template: { user: '{problem}' }, grader: exactGrader };
    const full = await runBenchmark({ ...options, sampler: createSampler({ baseURL: server.url, model: 'm' }), resultsPath: join(dir, 'full.jsonl') });
    // Keep the header and the first 9 records, then a torn half line, as a crash would leave.
    const lines = readFileSync(join(dir, 'full.jsonl'), 'utf8').split('\n');
    writeFileSync(join(dir, 'partial.jsonl'), `${lines.slice(0, 10).join('\n')}\n${lines[10]?.slice(0, 20)}`);
    const before = server.stats.reply;
    const resumed = await runBenchmark({ ...options, sampler: createSampler({ baseURL: server.url, model: 'm' }), resultsPath: join(dir, 'partial.jsonl'), resume: true });
    const keptSamples = lines.slice(1, 10).filter((line) => line.includes('"type":"sample"')).length;
    expect(resumed.droppedTornLine).toBe(true);
    expect(resumed.reused).toBe(keptSamples);
    expect(server.stats.reply - before).toBe(24 - keptSamples);
    expect(resumed.verdicts).toEqual(full.verdicts.map((verdict, index) => ({ ...verdict, latencyMs: resumed.verdicts[index]?.latencyMs })));
    const regraded = await regradeResults({ path: join(dir, 'partial.jsonl'), items, grader: exactGrader });
    expect(regraded.verdicts.map((verdict) => verdict.pass)).toEqual(full.verdicts.map((verdict) => verdict.pass));
  });

  it('refuses to resume a file written by a different run', async () => {
    server = await startOpenAiServer({ respond: () => ({ kind: 'reply', content: 'ANSWER:0' }) });
    const resultsPath = join(mkdtempSync(join(tmpdir(), 'aipo-run-')), 'r.jsonl');
    const base = { items: items.slice(0, 1), template: { user: '{problem}' }, grader: exactGrader, resultsPath };
    await runBenchmark({ ...base, header: header(1), sampler: createSampler({ baseURL: server.url, model: 'm' }) });
    await expect(
      runBenchmark({ ...base, header: { ...header(1), model: 'other' }, sampler: createSampler({ baseURL: server.url, model: 'other' }), resume: true }),
    ).rejects.toMatchObject({ code: 'CORRUPT_STATE' });
  });

  it('records API errors apart from wrong answers and never scores them', async () => {
    server = await startOpenAiServer({
      respond: ({ prompt, seed }) => (prompt === 'problem 0' ? { kind: 'status', status: 400 } : { kind: 'reply', content: answerFor(prompt, seed ?? 0) }),
    });
    const resultsPath = join(mkdtempSync(join(tmpdir(), 'aipo-run-')), 'r.jsonl');
    const subset = items.slice(0, 3);
    const outcome = await runBenchmark({ header: header(2), items: subset, template: { user: '{problem}' }, grader: exactGrader, sampler: createSampler({ baseURL: server.url, model: 'm' }), resultsPath });
    const summary = summarizeRun({ benchmark: 'toy', model: 'm', n: 2, items: subset, verdicts: outcome.verdicts, breakdowns: [] });
    expect(summary.samples).toMatchObject({ total: 6, graded: 4, errors: 2, errorKinds: { permanent: 2 } });
    expect(summary.problems).toEqual({ total: 3, scored: 2, unscored: 1 });
    expect(summary.perProblem[0]).toMatchObject({ id: 'p0', samples: 0, errors: 2, pass1: null });
  });

  it('fails fast with API_ERROR when every request fails from the start (wrong key, dead endpoint)', async () => {
    server = await startOpenAiServer({ respond: () => ({ kind: 'status', status: 401, body: '{"error":{"message":"invalid api key"}}' }) });
    const resultsPath = join(mkdtempSync(join(tmpdir(), 'aipo-run-')), 'r.jsonl');
    await expect(
      runBenchmark({ header: header(4), items, template: { user: '{problem}' }, grader: exactGrader, sampler: createSampler({ baseURL: server.url, model: 'm', concurrency: 2 }), resultsPath, failFastAfter: 5 }),
    ).rejects.toMatchObject({ code: 'API_ERROR', message: expect.stringContaining('invalid api key') });
    // Stopped early: far fewer than the 48 requests a full run would make, and what was asked is saved.
    expect(server.stats.status).toBeLessThan(48);
    const { records } = parseResults(readFileSync(resultsPath, 'utf8'), resultsPath);
    expect(records.filter((record) => record.type === 'sample').length).toBeGreaterThanOrEqual(5);
  });

  it('grades while sampling, and a slow grader holds sampling back through the bounded queue', async () => {
    server = await startOpenAiServer({ respond: ({ prompt, seed }) => ({ kind: 'reply', content: answerFor(prompt, seed ?? 0) }) });
    let openGate: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    let graded = 0;
    const slowGrader: Grader<string> = {
      id: 'slow',
      description: 'waits for the gate',
      async grade(input) {
        await gate;
        graded++;
        return exactGrader.grade(input);
      },
    };
    const resultsPath = join(mkdtempSync(join(tmpdir(), 'aipo-run-')), 'r.jsonl');
    const running = runBenchmark({
      header: header(4),
      items,
      template: { user: '{problem}' },
      grader: slowGrader,
      sampler: createSampler({ baseURL: server.url, model: 'm', concurrency: 2 }),
      resultsPath,
      gradeConcurrency: 1,
      queueCapacity: 2,
    });
    // Let sampling run as far as it can while grading is stuck.
    for (let waited = 0; waited < 40 && server.stats.reply < 48; waited++) await new Promise((resolve) => setTimeout(resolve, 10));
    // At most: 1 sample in the grader, 2 in the queue, 1 held by each of the 2 sampling workers.
    expect(server.stats.reply).toBeLessThanOrEqual(5);
    expect(graded).toBe(0);
    openGate();
    const outcome = await running;
    expect(outcome.verdicts).toHaveLength(48);
    expect(server.stats.reply).toBe(48);
  });

  it('stops every worker and rethrows when the grader breaks', async () => {
    server = await startOpenAiServer({ respond: () => ({ kind: 'reply', content: 'x' }) });
    const broken: Grader = {
      id: 'broken',
      description: 'throws',
      grade: async () => {
        throw Object.assign(new Error('docker is gone'), { code: 'SANDBOX_UNAVAILABLE' });
      },
    };
    const resultsPath = join(mkdtempSync(join(tmpdir(), 'aipo-run-')), 'r.jsonl');
    await expect(
      runBenchmark({ header: header(8), items, template: { user: '{problem}' }, grader: broken, sampler: createSampler({ baseURL: server.url, model: 'm' }), resultsPath, queueCapacity: 2 }),
    ).rejects.toThrow('docker is gone');
  });
});

describe('runBenchmark and regradeResults with answer voting', () => {
  it('give equivalent answers one vote (voteFor) with the real math grader, the same after re-grading', async () => {
    // Sample i of every problem answers FORMS[i]: three spellings of 1/2, then 1/3 twice.
    const FORMS = ['1/3', '0.5', '\\frac{1}{2}', '\\dfrac{2}{4}', '\\frac13'];
    server = await startOpenAiServer({
      respond: ({ body }) => {
        const seed = Number(body.seed);
        const index = [0, 1, 2, 3, 4].find((sampleIndex) => sampleSeed({ seed: 5, itemId: 'half', sampleIndex }) === seed) ?? -1;
        return { kind: 'reply', content: `so $\\boxed{${FORMS[index] ?? 'none'}}$` };
      },
    });
    const half: BenchItem[] = [{ id: 'half', variables: { problem: 'half' }, reference: '\\frac{1}{2}', tags: {} }];
    const resultsPath = join(mkdtempSync(join(tmpdir(), 'aipo-vote-')), 'results.jsonl');
    const outcome = await runBenchmark({
      header: header(5),
      items: half,
      template: { user: '{problem}' },
      grader: createMathGrader(),
      sampler: createSampler({ baseURL: server.url, model: 'm', concurrency: 2 }),
      resultsPath,
      voting: mathAnswerVoting,
    });
    expect(outcome.verdicts.map((verdict) => verdict.pass)).toEqual([false, true, true, true, false]);
    expect(outcome.verdicts.map((verdict) => verdict.voteFor)).toEqual(['1/3', '0.5', '0.5', '0.5', '1/3']);
    const summary = summarizeRun({ benchmark: 'toy', model: 'm', n: 5, items: half, verdicts: outcome.verdicts, breakdowns: [] });
    expect(summary.majAtK.at(-1)).toEqual({ k: 5, value: 1 });
    const regraded = await regradeResults({ path: resultsPath, items: half, grader: createMathGrader(), voting: mathAnswerVoting });
    expect(regraded.verdicts.map((verdict) => verdict.voteFor)).toEqual(['1/3', '0.5', '0.5', '0.5', '1/3']);
    // without voting, maj@5 falls back to text: five different strings, the first (wrong) wins the tie
    const byText = summarizeRun({ benchmark: 'toy', model: 'm', n: 5, items: half, verdicts: outcome.verdicts.map(({ voteFor: _, ...verdict }) => verdict), breakdowns: [] });
    expect(byText.majAtK.at(-1)).toEqual({ k: 5, value: 0 });
  });
});
