import type { TopLevelSpec } from 'vega-lite';
import type { RunSummary } from '../metrics/summarize-run';
import { escapeXml, percent } from './escape';
import { renderSvg } from './render-svg';

const WIDTH = 360;
const HEIGHT = 200;

function passAtKChart(summaries: readonly RunSummary[]): TopLevelSpec {
  const values = summaries.flatMap((summary) => [
    ...summary.passAtK.map(({ k, value }) => ({ series: `${summary.benchmark} pass@k`, k, value })),
    ...summary.majAtK.map(({ k, value }) => ({ series: `${summary.benchmark} maj@k`, k, value })),
  ]);
  const ks = [...new Set(values.map(({ k }) => k))].sort((left, right) => left - right);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'pass@k and maj@k',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'k', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: ks, format: 'd' }, title: 'k' },
      y: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'score' },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}

function breakdownChart(summary: RunSummary, tag: string): TopLevelSpec {
  const values = (summary.breakdowns[tag] ?? []).map((group) => ({ group: group.group, value: group.value, low: group.low, high: group.high }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${summary.benchmark}: pass@1 by ${tag}`,
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    encoding: { x: { field: 'group', type: 'nominal', sort: null, title: tag, axis: { labelAngle: -30 } } },
    layer: [
      { mark: 'bar', encoding: { y: { field: 'value', type: 'quantitative', scale: { domain: [0, 1] }, axis: { format: '%' }, title: 'pass@1' } } },
      { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } } },
    ],
  };
}

function lengthChart(summary: RunSummary): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${summary.benchmark}: completion length (${summary.lengthHistogram.unit})`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: summary.lengthHistogram.bins },
    mark: 'bar',
    encoding: {
      x: { field: 'start', type: 'quantitative', bin: { binned: true }, title: summary.lengthHistogram.unit },
      x2: { field: 'end' },
      y: { field: 'count', type: 'quantitative', title: 'samples' },
    },
  };
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:16px}
.fail{color:#b00}.muted{color:#777}h2{margin-top:32px}`;

/** A single self-contained HTML file: tables plus Vega-Lite charts inlined as SVG (no scripts, no network). */
export async function htmlReport(summaries: readonly RunSummary[]): Promise<string> {
  const parts: string[] = [`<!doctype html><html><head><meta charset="utf-8"><title>aipo bench report</title><style>${STYLE}</style></head><body>`];
  parts.push('<h1>aipo bench report</h1><table><tr><th>benchmark</th><th>model</th><th>problems</th><th>n</th><th>pass@1 %</th><th>95% CI</th><th>API errors</th></tr>');
  for (const summary of summaries) {
    parts.push(
      `<tr><td>${escapeXml(summary.benchmark)}</td><td>${escapeXml(summary.model)}</td><td>${summary.problems.scored}/${summary.problems.total}</td><td>${summary.n}</td><td>${percent(summary.pass1.value)}</td><td>${percent(summary.pass1.low)}–${percent(summary.pass1.high)}</td><td>${summary.samples.errors}</td></tr>`,
    );
  }
  parts.push('</table>');
  if (summaries.length > 0) parts.push(`<div class="charts">${await renderSvg(passAtKChart(summaries))}</div>`);
  for (const summary of summaries) {
    parts.push(`<h2>${escapeXml(summary.benchmark)}</h2><div class="charts">`);
    for (const tag of Object.keys(summary.breakdowns)) {
      if ((summary.breakdowns[tag] ?? []).length > 0) parts.push(await renderSvg(breakdownChart(summary, tag)));
    }
    if (summary.lengthHistogram.bins.length > 0) parts.push(await renderSvg(lengthChart(summary)));
    parts.push('</div>');
    const latency = summary.latencyMs;
    const tokens = summary.tokens.completion;
    parts.push(
      `<p class="muted">${summary.samples.total} samples: ${summary.samples.graded} graded, ${summary.samples.errors} API errors, ${summary.samples.parseFailed} without an answer, ${summary.samples.truncated} truncated.` +
        (tokens ? ` Completion tokens p50 ${tokens.p50}, p90 ${tokens.p90}, p99 ${tokens.p99}.` : '') +
        (latency ? ` Latency p50 ${latency.p50.toFixed(0)} ms, p99 ${latency.p99.toFixed(0)} ms.` : '') +
        '</p>',
    );
    parts.push('<details><summary>per problem</summary><table><tr><th>problem</th><th>tags</th><th>correct</th><th>pass@1 %</th><th>API errors</th></tr>');
    for (const problem of summary.perProblem) {
      const tags = Object.entries(problem.tags).map(([key, value]) => `${key}=${value}`).join(', ');
      parts.push(
        `<tr${problem.correct === 0 ? ' class="fail"' : ''}><td>${escapeXml(problem.id)}</td><td>${escapeXml(tags)}</td><td>${problem.correct}/${problem.samples}</td><td>${percent(problem.pass1)}</td><td>${problem.errors}</td></tr>`,
      );
    }
    parts.push('</table></details>');
  }
  parts.push('</body></html>\n');
  return parts.join('\n');
}
