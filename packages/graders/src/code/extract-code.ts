/**
 * LiveCodeBench's `extract_code` (lcb_runner/utils/extraction_utils.py): the lines strictly between
 * the last two lines that *contain* a ``` fence; fewer than two fence lines give "" (scored 0, no
 * fallback to the raw text). The language tag is ignored, so `<think>` traces need no stripping.
 */
export function extractLastFencedBlock(output: string): string {
  const lines = output.split('\n');
  const fences: number[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    if (lines[index]?.includes('```')) fences.push(index);
  }
  if (fences.length < 2) return '';
  const start = fences[fences.length - 2] as number;
  const end = fences[fences.length - 1] as number;
  return lines.slice(start + 1, end).join('\n');
}

/** The language tag of the last fenced block (`ts`, `typescript`, `python`, ...), lower-cased; "" when none. */
export function lastFenceLanguage(output: string): string {
  const lines = output.split('\n').filter((line) => line.includes('```'));
  const opening = lines[lines.length - 2];
  if (opening === undefined) return '';
  const match = /```\s*([A-Za-z0-9_+-]*)/.exec(opening);
  return (match?.[1] ?? '').toLowerCase();
}

/** How a grader turns a model output into a program. */
export type CodeExtraction = 'last-fenced-block' | 'raw';

export function extractProgram(output: string, extraction: CodeExtraction): string {
  return extraction === 'raw' ? output : extractLastFencedBlock(output);
}
