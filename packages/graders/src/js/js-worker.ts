import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { AipoError } from '@aipo/core';
import { WORKER_SOURCE } from './worker-source';

/** A reply of the worker process (see worker-source.ts). */
export interface WorkerReply {
  status: 'ok' | 'ready' | 'closed' | 'timeout' | 'memory_limit' | 'output_limit' | 'compile_error' | 'runtime_error';
  stdout?: string;
  value?: string;
  message?: string;
}

/** The worker stopped: killed at the host deadline, or it crashed (V8 OOM abort, fatal error). */
export class WorkerLostError extends Error {
  constructor(
    readonly reason: 'deadline' | 'crashed',
    message: string,
  ) {
    super(message);
  }
}

let isolatedVmPath: string | undefined;

function resolveIsolatedVm(): string {
  if (isolatedVmPath === undefined) {
    try {
      isolatedVmPath = createRequire(import.meta.url).resolve('isolated-vm');
    } catch (error) {
      throw new AipoError({
        code: 'MISSING_DEPENDENCY',
        message: 'the JS code grader needs the optional dependency isolated-vm (~6.2 on Node 22)',
        cause: error,
      });
    }
  }
  return isolatedVmPath;
}

/**
 * One disposable `node --no-node-snapshot` child process that runs isolates. isolated-vm's README:
 * "keep instances of isolated-vm in a different nodejs process"; V8's OOM `abort()` then only ends
 * this child. The host kills it when a reply is later than the job's deadline plus ivm's 5 s grace.
 */
export class JsWorker {
  private pending: { id: number; resolve: (reply: WorkerReply) => void; reject: (error: Error) => void } | undefined;
  private lost: WorkerLostError | undefined;
  private nextId = 0;
  jobs = 0;
  /** the last 2 KB the worker wrote to stderr (V8 prints its fatal errors there) */
  stderr = '';

  private constructor(private readonly child: ChildProcess) {}

  get alive(): boolean {
    return this.lost === undefined;
  }

  static start(): Promise<JsWorker> {
    const child = spawn(process.execPath, ['--no-node-snapshot', '--no-warnings', '-e', WORKER_SOURCE], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { AIPO_IVM_PATH: resolveIsolatedVm(), PATH: process.env.PATH ?? '' },
    });
    const worker = new JsWorker(child);
    // keep the tail of stderr for start-up errors and crash reports; always drained, so the child
    // never blocks on it
    child.stderr?.on('data', (chunk: Buffer) => {
      worker.stderr = (worker.stderr + chunk.toString('utf8')).slice(-2_000);
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(
          new AipoError({ code: 'SANDBOX_UNAVAILABLE', message: 'the isolated-vm worker did not start within 20 s' }),
        );
      }, 20_000);
      child.once('message', () => {
        clearTimeout(timer);
        worker.listen();
        resolve(worker);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new AipoError({
            code: 'SANDBOX_UNAVAILABLE',
            message: `the isolated-vm worker exited at start (code ${code}, signal ${signal}); isolated-vm 6 needs Node 22 or 24: ${worker.stderr.trim().split('\n').slice(-3).join(' | ')}`,
          }),
        );
      });
    });
  }

  request(message: Record<string, unknown>, hostTimeoutMs: number): Promise<WorkerReply> {
    if (this.lost) return Promise.reject(this.lost);
    this.jobs += 1;
    this.nextId += 1;
    const id = this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new WorkerLostError('deadline', `no reply within ${Math.round(hostTimeoutMs)} ms; worker killed`));
      }, hostTimeoutMs);
      this.pending = {
        id,
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.child.send({ ...message, id });
    });
  }

  kill(): void {
    this.fail(new WorkerLostError('crashed', 'worker stopped'));
  }

  private fail(error: WorkerLostError): void {
    if (!this.lost) this.lost = error;
    this.child.kill('SIGKILL');
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.lost);
  }

  private listen(): void {
    this.child.on('message', (message: WorkerReply & { id?: number }) => {
      const pending = this.pending;
      if (pending === undefined || message.id !== pending.id) return;
      this.pending = undefined;
      pending.resolve(message);
    });
    this.child.on('exit', (code, signal) => {
      this.fail(new WorkerLostError('crashed', `worker exited (code ${code}, signal ${signal})`));
    });
  }
}
