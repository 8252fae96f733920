import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { AipoError } from '@aipo/core';
import type { CasOptions, CasVerdict } from './compare-latex';

export interface MathPoolOptions {
  /** worker threads; default 1 (grading is usually spread over processes already) */
  size?: number;
  /** default hard deadline per CAS comparison in ms; default 2000 */
  timeoutMs?: number;
  /** V8 old-generation cap per worker in MB, so a blow-up kills the worker, not the process; default 512 */
  maxMemoryMb?: number;
}

/** A CAS verdict plus whether it came from the deadline rather than the CAS. */
export interface PoolVerdict extends CasVerdict {
  timedOut: boolean;
}

interface Job {
  gold: string;
  pred: string;
  options: CasOptions;
  timeoutMs: number;
  resolve: (verdict: PoolVerdict) => void;
  reject: (error: unknown) => void;
  /** detaches the abort listener; called once the job settles, whichever way */
  release?: () => void;
}

/** Counters of a pool, for monitoring and tests. */
export interface MathPoolStats {
  workers: number;
  busy: number;
  queued: number;
  /** workers terminated mid-comparison (deadline passed or the caller aborted) */
  terminated: number;
}

function abortedError(signal: AbortSignal): AipoError {
  return new AipoError({ code: 'ABORTED', message: 'the math comparison was aborted', cause: signal.reason });
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

// From source (tests, tsx) the worker is cas-worker.ts, which Node 22 runs by stripping types.
// From dist the worker is this very bundle started with a marker: it then loads the CAS through a
// dynamic import (its own chunk), so the main thread never loads compute-engine and the build
// needs no extra entry.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_MARKER = 'aipo-math-cas-worker';
const WORKER_URL = FROM_SOURCE ? new URL('./cas-worker.ts', import.meta.url) : new URL(import.meta.url);
if (!FROM_SOURCE && !isMainThread && (workerData as { role?: unknown } | null)?.role === WORKER_MARKER) {
  void import('./cas-worker');
}
const MAX_STARTUP_FAILURES = 3;
const STARTUP_TIMEOUT_MS = 30_000;

/**
 * A pool of worker threads running the CAS comparison under a hard deadline (reliability.md §4.1
 * M1–M3, ecosystem.md §1.5: every CAS hangs on something). A worker past its deadline is terminated
 * and replaced, and the comparison is recorded as "not equal (timeout)". Idle workers are unref'd,
 * so an idle pool never keeps the process alive; `close()` (or `await using`) ends them.
 */
export class MathPool {
  readonly size: number;
  readonly timeoutMs: number;
  private readonly maxMemoryMb: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private startupFailures = 0;
  private terminated = 0;
  private closed = false;

  constructor(options: MathPoolOptions = {}) {
    const { size = 1, timeoutMs = 2000, maxMemoryMb = 512 } = options;
    if (!Number.isInteger(size) || size < 1) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `math pool size must be a positive integer, got ${size}` });
    if (!(timeoutMs > 0)) throw new AipoError({ code: 'INVALID_ARGUMENT', message: `math pool timeoutMs must be positive, got ${timeoutMs}` });
    this.size = size;
    this.timeoutMs = timeoutMs;
    this.maxMemoryMb = maxMemoryMb;
  }

  /**
   * Compares two normalised answers in a worker; resolves "not equal" on timeout or worker death.
   * An abort rejects with ABORTED: a queued job is dropped, a running one has its worker terminated
   * (a CAS call cannot be interrupted otherwise) and replaced.
   */
  compare(request: { gold: string; pred: string; options: CasOptions; timeoutMs?: number; signal?: AbortSignal }): Promise<PoolVerdict> {
    if (this.closed) return Promise.reject(new AipoError({ code: 'ABORTED', message: 'the math pool is closed' }));
    const { signal, ...fields } = request;
    if (signal?.aborted) return Promise.reject(abortedError(signal));
    return new Promise<PoolVerdict>((resolve, reject) => {
      const job: Job = { ...fields, timeoutMs: fields.timeoutMs ?? this.timeoutMs, resolve, reject };
      if (signal) {
        const onAbort = () => this.cancel(job, abortedError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        job.release = () => signal.removeEventListener('abort', onAbort);
        job.resolve = (verdict) => {
          job.release?.();
          resolve(verdict);
        };
        job.reject = (error) => {
          job.release?.();
          reject(error);
        };
      }
      this.queue.push(job);
      while (this.slots.length < this.size && this.slots.length < this.queue.length + this.busyCount()) this.spawn();
      this.dispatch();
    });
  }

  /** Terminates every worker; queued comparisons reject with ABORTED. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new AipoError({ code: 'ABORTED', message: 'the math pool was closed' }));
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      clearTimeout(slot.timer);
      slot.job?.reject(new AipoError({ code: 'ABORTED', message: 'the math pool was closed' }));
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  stats(): MathPoolStats {
    return { workers: this.slots.length, busy: this.busyCount(), queued: this.queue.length, terminated: this.terminated };
  }

  /** Drops a queued job, or terminates the worker running it, and rejects it. */
  private cancel(job: Job, error: AipoError): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
    } else {
      const slot = this.slots.find((candidate) => candidate.job === job);
      if (slot === undefined) return; // already settled
      this.replace(slot);
    }
    job.reject(error);
    this.dispatch();
  }

  private busyCount(): number {
    return this.slots.filter((slot) => slot.job !== undefined).length;
  }

  private spawn(): Slot {
    // execArgv: [] because workers inherit the parent's flags, and some (`--input-type`, loaders of
    // test runners) break a worker; the worker needs none.
    const worker = new Worker(WORKER_URL, {
      execArgv: [],
      workerData: { role: WORKER_MARKER },
      resourceLimits: { maxOldGenerationSizeMb: this.maxMemoryMb },
    });
    const slot: Slot = { worker, ready: false };
    this.slots.push(slot);
    // a worker that never reports ready (a hung module load) counts as a failed start; unref'd so
    // a starting worker with nothing queued never keeps the process alive
    const startup = setTimeout(() => this.onWorkerDeath(slot, `did not start within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS).unref();
    worker.on('message', (message: { ready?: boolean; id?: number; verdict?: CasVerdict }) => {
      if (message.ready) {
        clearTimeout(startup);
        slot.ready = true;
        this.startupFailures = 0;
      } else if (slot.job !== undefined && message.verdict !== undefined) {
        this.finish(slot, { ...message.verdict, timedOut: false });
      }
      this.dispatch();
    });
    worker.on('error', (error) => {
      clearTimeout(startup);
      this.onWorkerDeath(slot, error.message);
    });
    worker.on('exit', (code) => {
      clearTimeout(startup);
      this.onWorkerDeath(slot, `exited with code ${code}`);
    });
    this.updateRefs();
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.job !== undefined) continue;
      const job = this.queue.shift();
      if (job === undefined) break;
      slot.job = job;
      slot.timer = setTimeout(() => {
        this.replace(slot);
        job.resolve({ equal: false, method: 'timeout', reason: `the CAS comparison exceeded its ${job.timeoutMs} ms deadline`, timedOut: true });
      }, job.timeoutMs);
      slot.worker.postMessage({ id: this.nextId++, gold: job.gold, pred: job.pred, options: job.options });
    }
    this.updateRefs();
  }

  private finish(slot: Slot, verdict: PoolVerdict): void {
    clearTimeout(slot.timer);
    const job = slot.job;
    slot.job = undefined;
    job?.resolve(verdict);
  }

  private onWorkerDeath(slot: Slot, reason: string): void {
    if (!this.slots.includes(slot)) return; // already replaced or closed
    if (!slot.ready) this.startupFailures++;
    if (slot.job !== undefined) this.finish(slot, { equal: false, method: 'error', reason: `the CAS worker died: ${reason}`, timedOut: false });
    if (this.startupFailures >= MAX_STARTUP_FAILURES) {
      const error = new AipoError({ code: 'SANDBOX_UNAVAILABLE', message: `the math CAS worker cannot start: ${reason}`, details: { workerUrl: WORKER_URL.href } });
      this.slots.splice(this.slots.indexOf(slot), 1);
      void slot.worker.terminate();
      for (const job of this.queue.splice(0)) job.reject(error);
      return;
    }
    this.replace(slot);
    this.dispatch();
  }

  private replace(slot: Slot): void {
    clearTimeout(slot.timer);
    if (slot.job !== undefined) this.terminated++;
    slot.job = undefined;
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    void slot.worker.terminate();
    if (!this.closed && (this.queue.length > 0 || this.slots.length < this.size)) this.spawn();
  }

  /** Workers hold the event loop only while there is work: an idle pool never keeps the process alive. */
  private updateRefs(): void {
    const pending = this.queue.length > 0;
    for (const slot of this.slots) {
      if (pending || slot.job !== undefined) slot.worker.ref();
      else slot.worker.unref();
    }
  }
}

let shared: MathPool | undefined;

/** The process-wide pool used when a grader is not given its own (created on first use). */
export function getMathPool(): MathPool {
  shared ??= new MathPool();
  return shared;
}

/** Closes the shared pool (a later comparison starts a new one). */
export async function closeMathPool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}
