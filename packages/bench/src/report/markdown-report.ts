import type { RunSummary } from '../metrics/summarize-run';
import { percent } from './escape';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A Markdown report (for PR comments and `$GITHUB_STEP_SUMMARY`); scores in percent. */
export function markdownReport(summaries: readonly RunSummary[]): string {
  const lines: string[] = ['# aipo bench results', '', '| benchmark | model | problems | n | pass@1 (95% CI) | errors |', '| --- | --- | ---: | ---: | --- | ---: |'];
  for (const summary of summaries) {
    lines.push(
      `| ${cell(summary.benchmark)} | ${cell(summary.model)} | ${summary.problems.scored}/${summary.problems.total} | ${summary.n} | ${percent(summary.pass1.value)} (${percent(summary.pass1.low)}–${percent(summary.pass1.high)}) | ${summary.samples.errors} |`,
    );
  }
  for (const summary of summaries) {
    lines.push('', `## ${cell(summary.benchmark)}`, '');
    lines.push(`| k | ${summary.passAtK.map(({ k }) => k).join(' | ')} |`, `| --- | ${summary.passAtK.map(() => '---:').join(' | ')} |`);
    lines.push(`| pass@k | ${summary.passAtK.map(({ value }) => percent(value)).join(' | ')} |`);
    lines.push(`| maj@k | ${summary.majAtK.map(({ value }) => percent(value)).join(' | ')} |`);
    for (const [tag, groups] of Object.entries(summary.breakdowns)) {
      if (groups.length === 0) continue;
      lines.push('', `### by ${cell(tag)}`, '', '| group | problems | pass@1 (95% CI) |', '| --- | ---: | --- |');
      for (const group of groups) lines.push(`| ${cell(group.group)} | ${group.problems} | ${percent(group.value)} (${percent(group.low)}–${percent(group.high)}) |`);
    }
    const tokens = summary.tokens.completion;
    const latency = summary.latencyMs;
    lines.push(
      '',
      `Samples: ${summary.samples.total} (${summary.samples.graded} graded, ${summary.samples.errors} API errors, ${summary.samples.parseFailed} without an answer, ${summary.samples.truncated} truncated).`,
    );
    if (tokens) lines.push(`Completion tokens: mean ${tokens.mean.toFixed(0)}, p50 ${tokens.p50}, p90 ${tokens.p90}, p99 ${tokens.p99}.`);
    if (latency) lines.push(`Latency: p50 ${latency.p50.toFixed(0)} ms, p90 ${latency.p90.toFixed(0)} ms, p99 ${latency.p99.toFixed(0)} ms.`);
  }
  return `${lines.join('\n')}\n`;
}
