import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DemoSettings } from './demo-settings';
import { type DemoProgress, runDemo } from './run-demo';

// A miniature demo: the full pipeline (warm-up, each method, evaluation, table, report) on a tiny
// model. The numbers mean nothing at this size; the test proves every path runs and is reported.
const TINY: Partial<DemoSettings> = {
  warmupSteps: 2,
  warmupBatchSize: 4,
  warmupDifficulties: [1],
  sampledTokenBudget: 120,
  evaluationSamples: 4,
  recipe: {
    model: { embeddingSize: 8, hiddenSize: 16 },
    task: { trainDifficulties: [1, 2], trainProblemsPerDifficulty: 10, evalDifficulties: [1, 2], evalProblemsPerDifficulty: 2 },
    promptsPerStep: 2,
    groupSize: 4,
    maxResponseTokens: 16,
    steps: 100,
    evaluation: { every: 0, samples: 4, k: [1, 4] },
    checkpointEvery: 0,
    ilr: { peerHiddenSize: 12 },
  },
};

const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

describe('runDemo', () => {
  it.each([false, true])('runs every phase and writes the table and report (ilr: %s)', async (ilr) => {
    const outDir = await mkdtemp(join(tmpdir(), 'aipo-demo-'));
    directories.push(outDir);
    const events: DemoProgress[] = [];
    const result = await runDemo({ outDir, ilr, firstSeed: 5, settings: TINY, onProgress: (event) => events.push(event) });
    expect(result.runs.every((run) => run.seed === 5)).toBe(true);
    const methods = ilr ? ['warmup', 'grpo', 'ilr', 'ilr-peer'] : ['warmup', 'grpo', 'luffy', 'aipo'];
    expect(result.runs.map((run) => run.method)).toEqual(methods);
    for (const run of result.runs.filter((entry) => entry.method !== 'warmup')) {
      // the equal budget: each method stops once it has sampled at least the budget
      expect(run.sampledTokens).toBeGreaterThanOrEqual(ilr && run.method !== 'grpo' ? 240 : 120);
      expect(run.steps).toBeGreaterThan(0);
    }
    expect(result.table.rows).toHaveLength(methods.length * 2);
    expect(result.table.ks).toEqual([1, 4]);
    for (const row of result.table.rows) {
      for (const cell of Object.values(row.cells)) {
        expect(cell.low).toBeLessThanOrEqual(cell.mean + 1e-12);
        expect(cell.high).toBeGreaterThanOrEqual(cell.mean - 1e-12);
      }
    }
    expect(result.tableText.split('\n')).toHaveLength(1 + methods.length * 2);
    const html = await readFile(result.reportPath, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('pass@k, difficulty 2');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const saved = JSON.parse(await readFile(result.resultsPath, 'utf8')) as { runs: unknown[] };
    expect(saved.runs).toHaveLength(methods.length);
    expect(new Set(events.map((event) => event.phase))).toEqual(new Set(['warmup', 'train', 'evaluate', 'report']));
    expect(events.every((event) => event.step <= event.total)).toBe(true);
  });

  it('rejects bad options with typed errors', async () => {
    await expect(runDemo({ outDir: '', settings: TINY })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(runDemo({ outDir: '/tmp/x', seeds: 0, settings: TINY })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(runDemo({ outDir: '/tmp/x', firstSeed: -1, settings: TINY })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
