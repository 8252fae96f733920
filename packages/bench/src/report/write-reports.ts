import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AipoError } from '@aipo/core';
import type { RunSummary } from '../metrics/summarize-run';
import { htmlReport } from './html-report';
import { junitReport } from './junit-report';
import { markdownReport } from './markdown-report';

export type ReportFormat = 'json' | 'markdown' | 'junit' | 'html';

export const REPORT_FILES: Record<ReportFormat, string> = { json: 'summary.json', markdown: 'report.md', junit: 'junit.xml', html: 'report.html' };

/** Write a file atomically (temp + rename), so a reader never sees half a summary. */
async function writeAtomic(path: string, text: string): Promise<void> {
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

/** Write the chosen reports into `directory`; returns the paths written. */
export async function writeReports({ summaries, directory, formats = ['json', 'markdown', 'junit', 'html'] }: {
  summaries: readonly RunSummary[];
  directory: string;
  formats?: readonly ReportFormat[];
}): Promise<string[]> {
  try {
    await mkdir(directory, { recursive: true });
    const written: string[] = [];
    for (const format of formats) {
      const path = join(directory, REPORT_FILES[format]);
      const text =
        format === 'json'
          ? `${JSON.stringify({ formatVersion: 1, summaries }, null, 2)}\n`
          : format === 'markdown'
            ? markdownReport(summaries)
            : format === 'junit'
              ? junitReport(summaries)
              : await htmlReport(summaries);
      await writeAtomic(path, text);
      written.push(path);
    }
    return written;
  } catch (error) {
    if (AipoError.isInstance(error)) throw error;
    throw new AipoError({ code: 'IO_ERROR', message: `cannot write reports to ${directory}: ${String(error)}`, cause: error, details: { directory } });
  }
}
