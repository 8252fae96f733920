import { createRequire } from 'node:module';
import { AipoError } from '@aipo/core';
import type { Grader } from '@aipo/graders';
import type { BenchItem, PromptTemplate } from '../benchmark';
import { renderPrompt } from '../prompts/render-template';
import { type AnswerVoting, voteByEquivalence } from '../metrics/vote-by-equivalence';
import { BoundedQueue } from './bounded-queue';
import type { Sampler } from './create-sampler';
import type { GradeRecord, RunHeader, SampleRecord } from './result-records';
import { openResultsFile } from './results-file';
import { sampleKey, sampleSeed } from './sample-key';
import { type SampleVerdict, toVerdict } from './sample-verdict';

/** Progress of one phase; the CLI draws sampling and grading as separate bars. */
export interface ProgressEvent {
  phase: 'sampling' | 'grading';
  done: number;
  total: number;
}

export interface RunBenchmarkOptions {
  /** describes the run; written as the first line of the results file and checked on resume */
  header: Omit<RunHeader, 'type' | 'formatVersion' | 'startedAt'>;
  items: BenchItem[];
  template: PromptTemplate;
  grader: Grader;
  sampler: Sampler;
  /** the JSONL file every reply and verdict is appended to */
  resultsPath: string;
  /** continue a killed run from its results file without re-asking finished samples */
  resume?: boolean;
  /** replace an existing results file */
  overwrite?: boolean;
  /** on resume, ask again for samples that ended as API errors (promptfoo's --retry-errors) */
  retryErrors?: boolean;
  /** graders running at once (default 4) */
  gradeConcurrency?: number;
  /** replies waiting for a grader before sampling pauses (default 64) */
  queueCapacity?: number;
  /** stop with API_ERROR when this many samples in a row failed before any succeeded (default 16) */
  failFastAfter?: number;
  /** group equivalent answers for maj@k (`voteFor` of each verdict); a benchmark's `answerVoting` */
  voting?: AnswerVoting;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

export interface RunOutcome {
  header: RunHeader;
  /** one per (item, sample), in item order then sample index: independent of arrival order */
  verdicts: SampleVerdict[];
  /** samples served from the results file instead of the model */
  reused: number;
  droppedTornLine: boolean;
}

interface Task {
  item: BenchItem;
  sampleIndex: number;
  seed: number;
  key: string;
  messages: ReturnType<typeof renderPrompt>;
}

/** Versions recorded in the run header, read from the installed package manifests. */
function runtimeVersions(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const versions: Record<string, string> = { node: process.version };
  for (const name of ['@aipo/bench', '@aipo/graders', '@aipo/core', 'openai']) {
    try {
      versions[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      // a package without an exported package.json: leave it out rather than guess
    }
  }
  return versions;
}

const COMPARED_HEADER_FIELDS = ['benchmark', 'model', 'template', 'sampling', 'seed', 'n', 'dataset'] as const;

function checkResumable(previous: RunHeader | undefined, next: RunHeader, path: string): void {
  if (previous === undefined) return;
  for (const field of COMPARED_HEADER_FIELDS) {
    if (JSON.stringify(previous[field]) !== JSON.stringify(next[field])) {
      throw new AipoError({
        code: 'CORRUPT_STATE',
        message: `${path} was written by a different run (${field}: ${JSON.stringify(previous[field])} vs ${JSON.stringify(next[field])}); use another --output or --overwrite`,
        details: { field, previous: previous[field], next: next[field] },
      });
    }
  }
}

/**
 * Sample n completions per item, grade them while sampling continues (bounded queue), and append
 * every reply and verdict to the results file as it arrives. With `resume`, replies already in the
 * file are reused by cache key, so a killed run finishes with exactly the results of an
 * uninterrupted one.
 */
export async function runBenchmark(options: RunBenchmarkOptions): Promise<RunOutcome> {
  const { header: headerFields, items, template, grader, sampler } = options;
  if (!Number.isInteger(headerFields.n) || headerFields.n < 1) {
    throw new AipoError({ code: 'INVALID_ARGUMENT', message: `samples per problem must be an integer >= 1, got ${headerFields.n}` });
  }
  const header: RunHeader = { type: 'run', formatVersion: 1, ...headerFields, startedAt: new Date().toISOString(), versions: runtimeVersions() };
  const file = openResultsFile({ path: options.resultsPath, resume: options.resume ?? false, overwrite: options.overwrite ?? false });
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  try {
    const previousHeader = file.existing.find((record): record is RunHeader => record.type === 'run');
    checkResumable(previousHeader, header, options.resultsPath);
    if (previousHeader === undefined) await file.append(header);

    const samples = new Map<string, SampleRecord>();
    const grades = new Map<string, GradeRecord>();
    for (const record of file.existing) {
      if (record.type === 'sample' && (record.status === 'ok' || !options.retryErrors)) samples.set(record.key, record);
      else if (record.type === 'grade') grades.set(record.key, record);
    }

    const tasks: Task[] = [];
    for (const item of items) {
      const messages = renderPrompt({ template, variables: item.variables });
      for (let sampleIndex = 0; sampleIndex < header.n; sampleIndex++) {
        const seed = sampleSeed({ seed: header.seed, itemId: item.id, sampleIndex });
        tasks.push({ item, sampleIndex, seed, key: sampleKey({ model: header.model, messages, sampling: header.sampling, seed, sampleIndex }), messages });
      }
    }
    const references = new Map(items.map((item) => [item.id, item.reference]));
    const toAsk = tasks.filter((task) => !samples.has(task.key));
    const toGradeFirst = tasks.filter((task) => samples.get(task.key)?.status === 'ok' && !grades.has(task.key));
    const reused = tasks.length - toAsk.length;
    const sampledTotal = tasks.length;
    let sampledDone = reused;
    // Only verdicts stay in memory (a few numbers per sample); outputs live in the results file.
    const verdicts = new Map<string, SampleVerdict>();
    for (const task of tasks) {
      const sample = samples.get(task.key);
      if (sample !== undefined && (sample.status === 'error' || grades.has(task.key))) verdicts.set(task.key, toVerdict(sample, grades.get(task.key)));
    }
    grades.clear();
    let errors = [...samples.values()].filter((sample) => sample.status === 'error').length;
    let gradedDone = verdicts.size - errors;
    options.onProgress?.({ phase: 'sampling', done: sampledDone, total: sampledTotal });

    const queue = new BoundedQueue<SampleRecord>(options.queueCapacity ?? 64);
    let firstError: unknown;
    // One failing worker (a broken sandbox, Ctrl-C) stops the others instead of leaving them blocked.
    const stop = (error: unknown): void => {
      firstError ??= error;
      controller.abort(error);
      queue.close();
    };
    // Records waiting for their group commit; each counts (verdict, progress) once durable.
    const committing = new Set<Promise<void>>();
    const afterCommit = (durable: Promise<void>, count: () => void): void => {
      const settled = durable.then(count, stop).finally(() => committing.delete(settled));
      committing.add(settled);
    };
    let next = 0;
    let succeeded = false;
    let failedInARow = 0;
    const failFastAfter = options.failFastAfter ?? 16;
    const samplingWorkers = Array.from({ length: Math.max(1, sampler.limiter.limit) }, () => sampleLoop().catch(stop));
    async function sampleLoop(): Promise<void> {
      while (next < toAsk.length && !signal.aborted) {
        const task = toAsk[next++] as Task;
        const outcome = await sampler.sample({ messages: task.messages, sampling: header.sampling, seed: task.seed, signal });
        const record: SampleRecord = {
          type: 'sample',
          key: task.key,
          itemId: task.item.id,
          sampleIndex: task.sampleIndex,
          seed: task.seed,
          status: outcome.status,
          latencyMs: Math.round(outcome.latencyMs * 100) / 100,
          attempts: outcome.attempts,
          ...(outcome.status === 'ok'
            ? { output: outcome.text, nullContent: outcome.nullContent, finishReason: outcome.finishReason, usage: outcome.usage, systemFingerprint: outcome.systemFingerprint }
            : { error: outcome.error }),
        };
        // It counts as done once durable (a run killed after that resumes without asking for it
        // again), but nothing waits for the disk: the next request and the grading go ahead, and
        // the file keeps lines in order, so a grade line never precedes its sample line.
        afterCommit(file.append(record), () => {
          if (record.status === 'error') verdicts.set(task.key, toVerdict(record, undefined));
          options.onProgress?.({ phase: 'sampling', done: ++sampledDone, total: sampledTotal });
        });
        if (record.status === 'ok') {
          succeeded = true;
          await queue.push(record);
        } else {
          errors++;
          // A wrong key, an unknown model or a dead endpoint fails every request: say so early
          // instead of spending the whole retry budget on each remaining sample.
          if (!succeeded && ++failedInARow >= failFastAfter) {
            throw new AipoError({
              code: 'API_ERROR',
              message: `the first ${failedInARow} samples all failed (last: ${record.error?.message ?? 'unknown'}); check --base-url, --model and the API key. Results so far are saved; fix and --resume --retry-errors`,
              details: { error: record.error },
            });
          }
        }
      }
    }
    const producer = (async () => {
      for (const task of toGradeFirst) await queue.push(samples.get(task.key) as SampleRecord);
      samples.clear();
      await Promise.all(samplingWorkers);
    })().finally(() => queue.close());

    const gradingWorkers = Array.from({ length: options.gradeConcurrency ?? 4 }, () => gradeLoop().catch(stop));
    async function gradeLoop(): Promise<void> {
      for (;;) {
        const next = await queue.pop();
        if (next.done) return;
        const sample = next.value;
        const result = await grader.grade({ output: sample.output ?? '', reference: references.get(sample.itemId), signal });
        const grade: GradeRecord = {
          type: 'grade',
          key: sample.key,
          itemId: sample.itemId,
          sampleIndex: sample.sampleIndex,
          pass: result.pass,
          score: result.score,
          reason: result.reason,
          ...(result.parseFailed === undefined ? {} : { parseFailed: result.parseFailed }),
          details: result.details,
        };
        afterCommit(file.append(grade), () => {
          verdicts.set(sample.key, toVerdict(sample, grade));
          options.onProgress?.({ phase: 'grading', done: ++gradedDone, total: tasks.length - errors });
        });
      }
    }
    await Promise.all([producer.catch(stop), ...gradingWorkers]);
    await Promise.all(committing);
    if (firstError !== undefined) throw firstError;
    const ordered = tasks.map((task) => {
      const verdict = verdicts.get(task.key);
      if (verdict === undefined) throw new AipoError({ code: 'INTERNAL', message: `sample ${task.item.id}#${task.sampleIndex} finished without a verdict` });
      return verdict;
    });
    const voted = options.voting === undefined ? ordered : await voteByEquivalence({ verdicts: ordered, voting: options.voting });
    return { header: previousHeader ?? header, verdicts: voted, reused, droppedTornLine: file.droppedTornLine };
  } finally {
    // flushes and fsyncs queued lines, also after Ctrl-C, so --resume continues from here
    await file.close();
  }
}
