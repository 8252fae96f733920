import type { RunSummary } from '../metrics/summarize-run';
import { escapeXml } from './escape';

/**
 * JUnit XML with one test case per problem (promptfoo added JUnit only in 2026, #9071). A problem
 * fails when no graded sample passed, and is an <error> when every sample was an API error, so
 * CI dashboards separate model mistakes from infrastructure trouble.
 */
export function junitReport(summaries: readonly RunSummary[]): string {
  const suites = summaries.map((summary) => {
    const failures = summary.perProblem.filter((problem) => problem.samples > 0 && problem.correct === 0).length;
    const errors = summary.perProblem.filter((problem) => problem.samples === 0).length;
    const cases = summary.perProblem.map((problem) => {
      const name = escapeXml(problem.id);
      const classname = escapeXml(`${summary.benchmark}.${summary.model}`);
      const stats = `${problem.correct}/${problem.samples} samples correct${problem.errors > 0 ? `, ${problem.errors} API errors` : ''}`;
      if (problem.samples === 0) return `    <testcase name="${name}" classname="${classname}"><error message="${escapeXml(`no graded sample: ${problem.errors} API errors`)}"/></testcase>`;
      if (problem.correct === 0) return `    <testcase name="${name}" classname="${classname}"><failure message="${escapeXml(stats)}"/></testcase>`;
      return `    <testcase name="${name}" classname="${classname}"><system-out>${escapeXml(stats)}</system-out></testcase>`;
    });
    return [
      `  <testsuite name="${escapeXml(summary.benchmark)}" tests="${summary.perProblem.length}" failures="${failures}" errors="${errors}">`,
      `    <properties><property name="model" value="${escapeXml(summary.model)}"/><property name="pass@1" value="${summary.pass1.value}"/></properties>`,
      ...cases,
      '  </testsuite>',
    ].join('\n');
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="aipo bench">\n${suites.join('\n')}\n</testsuites>\n`;
}
