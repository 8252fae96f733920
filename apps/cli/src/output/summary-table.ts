import type { RunSummary } from '@aipo/bench';
import Table from 'cli-table3';
import { plainStyle } from './table-style';

const pct = (value: number): string => (value * 100).toFixed(1);

/** The terminal table printed after a run: one row per benchmark. */
export function summaryTable(summaries: readonly RunSummary[]): string {
  const table = new Table({ style: plainStyle(), head: ['benchmark', 'model', 'problems', 'n', 'pass@1 %', '95% CI', `pass@k %`, 'maj@k %', 'errors'] });
  for (const summary of summaries) {
    const last = summary.passAtK.at(-1);
    const majority = summary.majAtK.at(-1);
    table.push([
      summary.benchmark,
      summary.model,
      `${summary.problems.scored}/${summary.problems.total}`,
      summary.n,
      pct(summary.pass1.value),
      `${pct(summary.pass1.low)}–${pct(summary.pass1.high)}`,
      last ? `@${last.k} ${pct(last.value)}` : '–',
      majority ? `@${majority.k} ${pct(majority.value)}` : '–',
      summary.samples.errors,
    ]);
  }
  return table.toString();
}
