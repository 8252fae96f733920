import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../metrics/summarize-run';
import { checkThresholds } from './check-thresholds';
import { junitReport } from './junit-report';
import { markdownReport } from './markdown-report';
import { writeReports } from './write-reports';

const summary: RunSummary = {
  benchmark: 'math500',
  model: 'm<&>',
  n: 2,
  problems: { total: 3, scored: 2, unscored: 1 },
  samples: { total: 6, graded: 4, errors: 2, errorKinds: { permanent: 2 }, parseFailed: 1, truncated: 0 },
  pass1: { value: 0.5, low: 0.1, high: 0.9 },
  passAtK: [{ k: 1, value: 0.5 }, { k: 2, value: 0.5 }],
  majAtK: [{ k: 1, value: 0.5 }, { k: 2, value: 0.5 }],
  breakdowns: { level: [{ group: '1', problems: 2, value: 0.5, low: 0.1, high: 0.9 }] },
  tokens: { completion: { count: 4, mean: 10, p50: 10, p90: 10, p99: 10, max: 10 }, promptTotal: 8, completionTotal: 40 },
  latencyMs: { count: 4, mean: 5, p50: 5, p90: 5, p99: 5, max: 5 },
  lengthHistogram: { unit: 'tokens', bins: [{ start: 0, end: 11, count: 4 }] },
  perProblem: [
    { id: 'ok"1', tags: { level: '1' }, samples: 2, correct: 2, errors: 0, pass1: 1 },
    { id: 'wrong', tags: { level: '1' }, samples: 2, correct: 0, errors: 0, pass1: 0 },
    { id: 'down', tags: {}, samples: 0, correct: 0, errors: 2, pass1: null },
  ],
};

describe('reports', () => {
  it('JUnit has one test case per problem, failures for wrong and errors for API outages', () => {
    const xml = junitReport([summary]);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toContain('tests="3" failures="1" errors="1"');
    expect(xml).toContain('name="ok&quot;1"');
    expect(xml).toContain('value="m&lt;&amp;&gt;"');
    expect(xml).toMatch(/name="down"[^\n]*<error /);
    expect(xml).toMatch(/name="wrong"[^\n]*<failure /);
  });

  it('Markdown shows pass@1 with its interval and the breakdowns', () => {
    const markdown = markdownReport([summary]);
    expect(markdown).toContain('| math500 | m<&> | 2/3 | 2 | 50.0 (10.0–90.0) | 2 |');
    expect(markdown).toContain('### by level');
  });

  it('writes summary.json, Markdown, JUnit and a self-contained HTML report with SVG charts', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'aipo-report-'));
    const written = await writeReports({ summaries: [summary], directory });
    expect(written.map((path) => path.slice(directory.length + 1))).toEqual(['summary.json', 'report.md', 'junit.xml', 'report.html']);
    expect(JSON.parse(readFileSync(join(directory, 'summary.json'), 'utf8')).summaries[0].pass1.value).toBe(0.5);
    const html = readFileSync(join(directory, 'report.html'), 'utf8');
    expect(html.match(/<svg/g)?.length).toBe(3);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('gates on --min-score per benchmark or for all', () => {
    expect(checkThresholds({ summaries: [summary], minScores: { math500: 0.42 } })).toEqual([]);
    expect(checkThresholds({ summaries: [summary], minScores: { math500: 0.6 } })).toEqual([{ benchmark: 'math500', score: 0.5, minimum: 0.6 }]);
    expect(checkThresholds({ summaries: [summary], minScores: { '*': 0.9 } })).toHaveLength(1);
    expect(checkThresholds({ summaries: [summary], minScores: { aime2024: 0.9 } })).toEqual([]);
  });
});
