import { availableParallelism } from 'node:os';
import { AipoError } from '@aipo/core';
import { createDockerEngine, describeDockerError, type DockerEngine, type DockerEngineOptions } from './docker-engine';
import { SandboxContainer, sweepOrphanContainers } from './sandbox-container';
import type { SandboxLimits } from './sandbox-limits';

/** consecutive failed starts after which the background refill waits for the next acquire or release */
const MAX_START_FAILURES = 3;

export interface ContainerPoolOptions {
  image: string;
  limits: SandboxLimits;
  /** engines to spread containers over; default one engine from `DOCKER_HOST` (or the local socket) */
  engines?: Array<DockerEngineOptions | DockerEngine>;
  /** warm containers in total, spread round-robin over the engines; default one per core */
  size?: number;
  /**
   * pre-warmed standby containers, started in the background after warm-up and swapped in the
   * moment a container is retired, so a recycle never waits for `docker create` + start;
   * default one per pool slot (`size`), 0 turns them off
   */
  spares?: number;
  /** a container is replaced after this many jobs even when every job went well */
  maxJobsPerContainer?: number;
  /** one fresh container per lease, destroyed afterwards (no reuse at all) */
  paranoid?: boolean;
}

/** Counters of a pool (monitoring and tests). */
export interface ContainerPoolStats {
  /** containers in the pool's slots, leased or idle */
  live: number;
  idle: number;
  /** pre-warmed standbys waiting to replace a retired container, and how many the pool keeps */
  spares: number;
  spareTarget: number;
  /** container starts in flight */
  starting: number;
  /** containers started and destroyed since the pool was created */
  created: number;
  retired: number;
}

function isEngine(value: DockerEngineOptions | DockerEngine): value is DockerEngine {
  return typeof (value as DockerEngine).createContainer === 'function';
}

/**
 * A pool of warm sandbox containers, possibly on several Docker engines (how grading scales past one
 * machine). Each container serves one program at a time. A container the caller reports unhealthy
 * (see the grader's recycle policy), a dead one, and one past `maxJobsPerContainer` jobs is destroyed
 * and replaced by a pre-warmed spare at once; spares are refilled in the background one start at a
 * time per engine, so container creation (CPU in dockerd, containerd and runc) never crowds out
 * the programs being graded. Orphans of dead processes are swept on first use.
 */
export class ContainerPool {
  readonly size: number;
  readonly spareTarget: number;
  private readonly engines: DockerEngine[];
  private readonly idle: SandboxContainer[] = [];
  private readonly spares: SandboxContainer[] = [];
  private readonly waiters: Array<{
    resolve: (container: SandboxContainer) => void;
    reject: (error: unknown) => void;
  }> = [];
  private starting = 0;
  private live = 0;
  private created = 0;
  private retired = 0;
  private startFailures = 0;
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
    const spares = options.spares ?? size;
    if (!Number.isInteger(spares) || spares < 0) {
      throw new AipoError({ code: 'INVALID_CONFIG', message: `spares must be a non-negative integer, got ${spares}` });
    }
    this.size = size;
    this.spareTarget = spares;
  }

  /** Check every engine and the image, sweep orphans, and start the warm containers (spares follow in the background). */
  warmUp(): Promise<void> {
    this.ready ??= this.prepare();
    return this.ready;
  }

  stats(): ContainerPoolStats {
    return {
      live: this.live,
      idle: this.idle.length,
      spares: this.spares.length,
      spareTarget: this.spareTarget,
      starting: this.starting,
      created: this.created,
      retired: this.retired,
    };
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
      for (const result of started) {
        if (result.status !== 'fulfilled') continue;
        this.live += 1;
        this.handOut(result.value);
      }
      const failure = started.find((result) => result.status === 'rejected');
      if (this.idle.length === 0 && failure) throw failure.reason;
    }
    this.refill();
  }

  /** Wait for an idle container (in paranoid mode: a fresh one, a spare when one is ready). */
  async acquire(): Promise<SandboxContainer> {
    await this.warmUp();
    if (this.closed) throw new AipoError({ code: 'SANDBOX_UNAVAILABLE', message: 'the sandbox pool is closed' });
    if (this.options.paranoid) {
      const spare = this.takeSpare();
      this.refill();
      return spare ?? this.startOne();
    }
    for (let container = this.idle.pop(); container; container = this.idle.pop()) {
      if (container.alive) return container;
      this.retire(container); // died while idle
      this.live -= 1;
    }
    if (this.live < this.size) {
      const spare = this.takeSpare();
      if (spare) {
        this.live += 1;
        this.refill();
        return spare;
      }
    }
    const waiting = new Promise<SandboxContainer>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.refill();
    return waiting;
  }

  /** Give a container back; `healthy: false` destroys it and swaps a spare in. Returns whether it was retired. */
  release(container: SandboxContainer, { healthy }: { healthy: boolean }): boolean {
    const maxJobs = this.options.maxJobsPerContainer ?? 100;
    if (this.options.paranoid || !healthy || !container.alive || container.jobs >= maxJobs || this.closed) {
      this.retire(container);
      if (!this.options.paranoid && !this.closed) {
        this.live -= 1;
        const spare = this.takeSpare();
        if (spare) {
          this.live += 1;
          this.handOut(spare);
        }
        this.refill();
      }
      return true;
    }
    this.handOut(container);
    return false;
  }

  /** Destroy every container; pending acquires fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.reject(new AipoError({ code: 'SANDBOX_UNAVAILABLE', message: 'the sandbox pool was closed' }));
    }
    this.idle.length = 0;
    this.spares.length = 0;
    await Promise.all([...this.all].map((container) => container.destroy()));
    this.all.clear();
  }

  private handOut(container: SandboxContainer): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(container);
    else this.idle.push(container);
  }

  /** A live spare, dropping any that died while waiting. */
  private takeSpare(): SandboxContainer | undefined {
    for (let spare = this.spares.shift(); spare; spare = this.spares.shift()) {
      if (spare.alive) return spare;
      this.retire(spare);
    }
    return undefined;
  }

  private retire(container: SandboxContainer): void {
    if (this.all.delete(container)) this.retired += 1;
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
    this.created += 1;
    return container;
  }

  /**
   * Start containers until every slot is filled and the spares are at their target, at most one
   * start in flight per engine: starting is mostly CPU in the engine's daemons, and several at once
   * would slow the programs being graded on the same machine more than it helps.
   */
  private refill(): void {
    if (this.closed || this.ready === undefined) return;
    const slotsWanted = this.options.paranoid ? 0 : this.size - this.live;
    const wanted = slotsWanted + this.spareTarget - this.spares.length;
    if (this.starting >= Math.min(wanted, this.engines.length)) return;
    this.starting += 1;
    this.startOne()
      .then(
        (container) => {
          this.startFailures = 0;
          if (!this.options.paranoid && this.live < this.size) {
            this.live += 1;
            this.handOut(container);
          } else {
            this.spares.push(container);
          }
        },
        (error: unknown) => {
          // a start that fails must not leave a waiter hanging when nothing else can serve it
          if (this.live === 0 && this.spares.length === 0) this.waiters.shift()?.reject(error);
          this.startFailures += 1;
        },
      )
      .finally(() => {
        this.starting -= 1;
        // after repeated failures stop retrying in a loop; the next acquire or release tries again
        if (this.startFailures < MAX_START_FAILURES) this.refill();
      });
    // more than one engine: fill them in parallel
    this.refill();
  }
}
