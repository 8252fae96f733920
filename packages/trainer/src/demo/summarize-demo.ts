import { bootstrapInterval, createRng, passAtK } from '@aipo/core';
import type { DemoMethod, DemoRun } from './run-demo';

/** pass@k of one method at one difficulty: mean over problems and seeds, a 95% interval, and each seed's value. */
export interface DemoCell {
  /** mean over every (seed, problem) pair */
  mean: number;
  /** 95% percentile-bootstrap interval over problems (seeds pooled) */
  low: number;
  high: number;
  /** the mean of each seed separately */
  perSeed: number[];
}

/** The demo's table as data. */
export interface DemoTable {
  /** the k columns */
  ks: number[];
  /** methods in run order */
  methods: DemoMethod[];
  /** difficulties evaluated */
  difficulties: number[];
  /** one row per (method, difficulty) */
  rows: Array<{ method: DemoMethod; difficulty: number; cells: Record<number, DemoCell> }>;
}

/** Mean pass@k over problems (and seeds) for every k in 1..n: the pass@k curve of one method and difficulty. */
export function passAtKCurve(runs: readonly DemoRun[], method: DemoMethod, difficulty: number): number[] {
  const counts = correctCounts(runs, method, difficulty);
  const samples = counts[0]?.samples ?? 0;
  return Array.from({ length: samples }, (_, index) => {
    const values = counts.flatMap(({ correct }) => correct.map((c) => passAtK(samples, c, index + 1)));
    return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  });
}

function correctCounts(runs: readonly DemoRun[], method: DemoMethod, difficulty: number) {
  return runs
    .filter((run) => run.method === method)
    .map((run) => {
      const entry = run.evaluation.difficulties.find((item) => item.difficulty === difficulty);
      return { seed: run.seed, samples: entry?.samples ?? 0, correct: entry?.correct ?? [] };
    });
}

/** Build the table (pass@1, pass@8, pass@n) and its text rendering. */
export function summarizeDemo(options: { runs: readonly DemoRun[]; seeds: number }): { table: DemoTable; text: string } {
  const { runs } = options;
  const methods = [...new Set(runs.map((run) => run.method))];
  const difficulties = [...new Set(runs.flatMap((run) => run.evaluation.difficulties.map((entry) => entry.difficulty)))].sort((a, b) => a - b);
  const samples = runs[0]?.evaluation.difficulties[0]?.samples ?? 1;
  const ks = [...new Set([1, 8, samples].filter((k) => k <= samples))];
  const rows: DemoTable['rows'] = [];
  for (const method of methods) {
    for (const difficulty of difficulties) {
      const counts = correctCounts(runs, method, difficulty);
      const cells: Record<number, DemoCell> = {};
      for (const k of ks) {
        const pooled = counts.flatMap(({ samples: n, correct }) => correct.map((c) => passAtK(n, c, k)));
        const perSeed = counts.map(({ samples: n, correct }) => correct.reduce((sum, c) => sum + passAtK(n, c, k), 0) / Math.max(1, correct.length));
        const interval = bootstrapInterval(pooled, { rng: createRng(k * 1009 + difficulty), resamples: 1000 });
        cells[k] = { mean: interval.estimate, low: interval.low, high: interval.high, perSeed };
      }
      rows.push({ method, difficulty, cells });
    }
  }
  const table: DemoTable = { ks, methods, difficulties, rows };
  return { table, text: formatDemoTable(table) };
}

/** Fixed-width text: one row per method and difficulty, `mean [low, high]` per k. */
export function formatDemoTable(table: DemoTable): string {
  const header = ['method'.padEnd(9), 'd'.padEnd(2), ...table.ks.map((k) => `pass@${k}`.padEnd(19))].join(' ');
  const lines = table.rows.map((row) =>
    [
      row.method.padEnd(9),
      String(row.difficulty).padEnd(2),
      ...table.ks.map((k) => {
        const cell = row.cells[k];
        return cell === undefined ? ''.padEnd(19) : `${cell.mean.toFixed(3)} [${cell.low.toFixed(2)},${cell.high.toFixed(2)}]`.padEnd(19);
      }),
    ].join(' '),
  );
  return [header, ...lines].join('\n');
}
