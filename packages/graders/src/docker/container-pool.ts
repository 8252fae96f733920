import { availableParallelism } from 'node:os';
import { AipoError } from '@aipo/core';
import { createDockerEngine, describeDockerError, type DockerEngine, type DockerEngineOptions } from './docker-engine';
import { SandboxContainer, sweepOrphanContainers } from './sandbox-container';
import type { SandboxLimits } from './sandbox-limits';

export interface ContainerPoolOptions {
  image: string;
  limits: SandboxLimits;
  /** engines to spread containers over; default one engine from `DOCKER_HOST` (or the local socket) */
  engines?: Array<DockerEngineOptions | DockerEngine>;
  /** warm containers in total, spread round-robin over the engines; default one per core */
  size?: number;
  /** a container is replaced after this many jobs even when every job went well */
  maxJobsPerContainer?: number;
  /** one fresh container per lease, destroyed afterwards (no reuse at all) */
  paranoid?: boolean;
}

function isEngine(value: DockerEngineOptions | DockerEngine): value is DockerEngine {
  return typeof (value as DockerEngine).createContainer === 'function';
}

/**
 * A pool of warm sandbox containers, possibly on several Docker engines (how grading scales past one
 * machine). Each container serves one program at a time. After any failed job it is destroyed and
 * replaced in the background, and after `maxJobsPerContainer` jobs as well, so one program's
 * leftovers can never meet the next program. Orphans of dead processes are swept on first use.
 */
export class ContainerPool {
  readonly size: number;
  private readonly engines: DockerEngine[];
  private readonly idle: SandboxContainer[] = [];
  private readonly waiters: Array<{
    resolve: (container: SandboxContainer) => void;
    reject: (error: unknown) => void;
  }> = [];
  private starting = 0;
  private live = 0;
  private nextEngine = 0;
  private closed = false;
  private ready: Promise<void> | undefined;
  private readonly all = new Set<SandboxContainer>();

  constructor(private readonly options: ContainerPoolOptions) {
    this.engines = (options.engines ?? [{}]).map((engine) =>
      isEngine(engine) ? engine : createDockerEngine(Object.keys(engine).length === 0 ? undefined : engine),
    );
    if (this.engines.length === 0)
      throw new AipoError({ code: 'INVALID_CONFIG', message: 'engines must not be empty' });
    const size = options.size ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) {
      throw new AipoError({ code: 'INVALID_CONFIG', message: `pool size must be a positive integer, got ${size}` });
    }
    this.size = size;
  }

  /** Check every engine and the image, sweep orphans, and start the warm containers. */
  warmUp(): Promise<void> {
    this.ready ??= this.prepare();
    return this.ready;
  }

  private async prepare(): Promise<void> {
    for (const engine of this.engines) {
      try {
        await engine.ping();
      } catch (error) {
        throw new AipoError({
          code: 'SANDBOX_UNAVAILABLE',
          message: `Docker engine unreachable: ${describeDockerError(error)}`,
          cause: error,
        });
      }
      try {
        await engine.getImage(this.options.image).inspect();
      } catch (error) {
        throw new AipoError({
          code: 'SANDBOX_UNAVAILABLE',
          message: `sandbox image ${this.options.image} not found on the engine; build it with: node packages/graders/scripts/build-sandbox-image.mjs`,
          cause: error,
        });
      }
      await sweepOrphanContainers(engine).catch(() => 0);
    }
    if (!this.options.paranoid) {
      const started = await Promise.allSettled(Array.from({ length: this.size }, () => this.startOne()));
      for (const result of started) if (result.status === 'fulfilled') this.handOut(result.value);
      const failure = started.find((result) => result.status === 'rejected');
      if (this.idle.length === 0 && failure) throw failure.reason;
    }
  }

  /** Wait for an idle container (in paranoid mode: a fresh one). */
  async acquire(): Promise<SandboxContainer> {
    await this.warmUp();
    if (this.closed) throw new AipoError({ code: 'SANDBOX_UNAVAILABLE', message: 'the sandbox pool is closed' });
    if (this.options.paranoid) {
      return this.startOne();
    }
    const container = this.idle.pop();
    if (container) return container;
    if (this.live + this.starting < this.size) void this.spawn();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Give a container back; `healthy: false` (any failed job) destroys and replaces it. */
  release(container: SandboxContainer, { healthy }: { healthy: boolean }): void {
    const maxJobs = this.options.maxJobsPerContainer ?? 100;
    if (this.options.paranoid || !healthy || !container.alive || container.jobs >= maxJobs || this.closed) {
      this.retire(container);
      if (!this.options.paranoid && !this.closed) void this.spawn();
      return;
    }
    this.handOut(container);
  }

  /** Destroy every container; pending acquires fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(new AipoError({ code: 'SANDBOX_UNAVAILABLE', message: 'the sandbox pool was closed' }));
    }
    this.idle.length = 0;
    await Promise.all([...this.all].map((container) => container.destroy()));
    this.all.clear();
  }

  private handOut(container: SandboxContainer): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(container);
    else this.idle.push(container);
  }

  private retire(container: SandboxContainer): void {
    if (this.all.delete(container)) this.live -= 1;
    void container.destroy();
  }

  private async startOne(): Promise<SandboxContainer> {
    const engine = this.engines[this.nextEngine % this.engines.length] as DockerEngine;
    this.nextEngine += 1;
    const container = await SandboxContainer.start({ engine, image: this.options.image, limits: this.options.limits });
    if (this.closed) {
      await container.destroy();
      throw new AipoError({ code: 'SANDBOX_UNAVAILABLE', message: 'the sandbox pool was closed' });
    }
    this.all.add(container);
    this.live += 1;
    return container;
  }

  private async spawn(): Promise<void> {
    this.starting += 1;
    try {
      const container = await this.startOne();
      this.handOut(container);
    } catch (error) {
      // a replacement that cannot start fails the oldest waiter instead of hanging it
      if (this.live === 0) this.waiters.shift()?.reject(error);
    } finally {
      this.starting -= 1;
    }
  }
}
