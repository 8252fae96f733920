import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { AipoError } from '@aipo/core';
import type { Command } from 'commander';
import { type ResolvedGrader, resolveGrader } from '../graders/resolve-grader';
import type { CliContext } from '../run';
import { createProgress } from '../output/progress';
import { numberFlag } from './bench-options';
import { gradeBatch } from './grade-batch';
import { answerRecordSchema, codeRecordSchema, invalidLine, type VerdictLine, verdictLine } from './grade-records';

interface AnswerFlags {
  pred?: string;
  gold?: string;
  input?: string;
  output: string;
  concurrency: number;
}

function describeIssue(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  const issue = error.issues[0];
  return `${issue?.path.length ? `"${issue.path.join('.')}": ` : ''}${issue?.message ?? 'invalid record'}`;
}

/** Lines in a file (for the progress bar's total); stdin has none to count in advance. */
async function countLines(path: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(path)) for (const byte of chunk as Buffer) if (byte === 10) lines++;
  return lines;
}

/** Grade a batch with a progress bar on stderr (a terminal only, and only for a file input). */
async function gradeWithProgress(options: Omit<Parameters<typeof gradeBatch>[0], 'onProgress'> & { label: string }): Promise<void> {
  const total = options.input === '-' || !process.stderr.isTTY ? undefined : await countLines(options.input);
  const progress = createProgress({ label: options.label, enabled: total !== undefined });
  try {
    await gradeBatch({ ...options, onProgress: (done) => progress.update({ phase: 'grading', done, total: Math.max(total ?? 0, done) }) });
  } finally {
    progress.stop();
  }
}

async function readText(source: string): Promise<string> {
  if (source !== '-') return readFile(source, 'utf8');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Write one-off verdicts and report the batch outcome on stderr (stdout may be the verdict stream). */
function printOne(line: VerdictLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function registerAnswerGrader(grade: Command, context: CliContext, { name, graderId, description }: { name: string; graderId: string; description: string }): void {
  grade
    .command(name)
    .description(description)
    .option('--pred <text>', 'the model output (one-off)')
    .option('--gold <answer>', 'the gold answer (one-off)')
    .option('-i, --input <file>', 'batch: JSONL of {id?, pred, gold}; - for stdin')
    .option('-o, --output <file>', 'batch: where verdict lines go; - for stdout', '-')
    .option('--concurrency <n>', 'records graded at once', numberFlag('concurrency', { integer: true, min: 1 }), 8)
    .action(async (flags: AnswerFlags) => {
      const { grader } = await resolveGrader(graderId);
      const gradeRecord = async (record: unknown): Promise<VerdictLine> => {
        const parsed = answerRecordSchema.safeParse(record);
        const id = typeof record === 'object' && record !== null ? (record as { id?: unknown }).id : undefined;
        if (!parsed.success) return invalidLine(id, describeIssue(parsed.error), {});
        return verdictLine(parsed.data.id, await grader.grade({ output: parsed.data.pred, reference: parsed.data.gold, signal: context.signal }));
      };
      if (flags.input !== undefined) {
        await gradeWithProgress({ input: flags.input, output: flags.output, concurrency: flags.concurrency, gradeLine: gradeRecord, label: name });
        return;
      }
      if (flags.pred === undefined || flags.gold === undefined) {
        throw new AipoError({ code: 'INVALID_ARGUMENT', message: `aipo grade ${name} needs --pred and --gold, or --input FILE.jsonl` });
      }
      printOne(await gradeRecord({ pred: flags.pred, gold: flags.gold }));
    });
}

interface CodeFlags {
  code?: string;
  language: string;
  tests?: string;
  fnName?: string;
  input?: string;
  output: string;
  concurrency: number;
  sandboxImage?: string;
}

export function registerGrade(program: Command, context: CliContext): void {
  const grade = program.command('grade').description('grade answers or programs without a model: one-off from flags or a JSONL batch');
  registerAnswerGrader(grade, context, { name: 'math', graderId: 'math', description: 'is a model output mathematically equivalent to the gold answer (boxed, LaTeX, numbers)?' });
  registerAnswerGrader(grade, context, { name: 'mc', graderId: 'multiple-choice', description: 'does a model output pick the gold letter of a multiple-choice question?' });
  grade
    .command('code')
    .description('run a program against LiveCodeBench-format tests (python in Docker, javascript in isolated-vm)')
    .option('--code <file>', 'the program (one-off); - for stdin')
    .option('--language <language>', 'python or javascript', 'python')
    .option('--tests <file>', 'one-off: JSON array of {input, output, testtype: "stdin"|"functional"}')
    .option('--fn-name <name>', 'one-off: function to call for functional tests')
    .option('-i, --input <file>', 'batch: JSONL of {id?, code, language, fn_name?, tests}; - for stdin')
    .option('-o, --output <file>', 'batch: where verdict lines go; - for stdout', '-')
    .option('--concurrency <n>', 'programs graded at once', numberFlag('concurrency', { integer: true, min: 1 }), 2)
    .option('--sandbox-image <image>', 'Docker image for python (default aipo-sandbox-python:3)')
    .action(async (flags: CodeFlags) => {
      const graders = new Map<string, Promise<ResolvedGrader>>();
      const graderFor = (language: 'python' | 'javascript'): Promise<ResolvedGrader> => {
        let resolved = graders.get(language);
        if (resolved === undefined) {
          resolved = resolveGrader(language === 'python' ? 'code-python' : 'code-javascript', { extraction: 'raw', ...(flags.sandboxImage === undefined ? {} : { sandboxImage: flags.sandboxImage }) });
          graders.set(language, resolved);
        }
        return resolved;
      };
      const gradeRecord = async (record: unknown): Promise<VerdictLine> => {
        const parsed = codeRecordSchema.safeParse(record);
        const id = typeof record === 'object' && record !== null ? (record as { id?: unknown }).id : undefined;
        if (!parsed.success) return invalidLine(id, describeIssue(parsed.error), {});
        const { grader } = await graderFor(parsed.data.language);
        const reference = parsed.data.fn_name === undefined ? { tests: parsed.data.tests } : { tests: parsed.data.tests, fn_name: parsed.data.fn_name };
        return verdictLine(parsed.data.id, await grader.grade({ output: parsed.data.code, reference, signal: context.signal }));
      };
      try {
        if (flags.input !== undefined) {
          await gradeWithProgress({ input: flags.input, output: flags.output, concurrency: flags.concurrency, gradeLine: gradeRecord, label: 'code' });
          return;
        }
        if (flags.code === undefined || flags.tests === undefined) {
          throw new AipoError({ code: 'INVALID_ARGUMENT', message: 'aipo grade code needs --code FILE and --tests FILE, or --input FILE.jsonl' });
        }
        let tests: unknown;
        try {
          tests = JSON.parse(await readFile(flags.tests, 'utf8'));
        } catch (error) {
          throw new AipoError({ code: 'INVALID_ARGUMENT', message: `--tests ${flags.tests} is not a readable JSON array`, cause: error });
        }
        printOne(await gradeRecord({ code: await readText(flags.code), language: flags.language, tests, ...(flags.fnName === undefined ? {} : { fn_name: flags.fnName }) }));
      } finally {
        for (const resolved of graders.values()) await (await resolved.catch(() => undefined))?.close();
      }
    });
}
