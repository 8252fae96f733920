import { hostname } from 'node:os';
import { AipoError } from '@aipo/core';
import { describeDockerError, type DockerContainer, type DockerEngine } from './docker-engine';
import { ByteQueue } from './byte-queue';
import { RUNNER_SOURCE } from './runner-source';
import type { SandboxLimits } from './sandbox-limits';

/** Label on every sandbox container; the pool sweeps orphans by it at start-up. */
export const SANDBOX_LABEL = 'aipo.sandbox';
const HOST_LABEL = 'aipo.sandbox.host';
const PID_LABEL = 'aipo.sandbox.pid';

/** A reply of the in-container runner (see runner-source.ts). */
export interface RunnerReply {
  status:
    | 'ready'
    | 'stopped'
    | 'exited'
    | 'signaled'
    | 'timeout'
    | 'output_limit'
    | 'returned'
    | 'raised'
    | 'closed'
    | 'no_session'
    | 'runner_error'
    | 'bad_request';
  exit?: number;
  signal?: number;
  stdout?: string;
  stderr?: string;
  value?: string;
  completed?: boolean;
  oomKilled?: boolean;
  /** total the post-run check had to clean (see `cleanup`); non-zero recycles the container */
  leftovers?: number;
  /** escaped processes, entries outside the work dir, IPC objects, and what survived the wipe */
  cleanup?: { processes: number; files: number; ipc: number; residue: number };
  elapsedMs?: number;
  /** batch replies: which test, and whether the batch ends with this reply */
  index?: number;
  final?: boolean;
  /** a batch ended because LiveCodeBench's global deadline ran out */
  budget?: boolean;
}

/** The container stopped answering (killed at the host deadline, died, or the stream broke). */
export class SandboxLostError extends Error {
  constructor(
    readonly reason: 'deadline' | 'died',
    message: string,
  ) {
    super(message);
  }
}

/** Largest runner reply accepted; the runner caps program output well below this. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export interface StartSandboxOptions {
  engine: DockerEngine;
  image: string;
  limits: SandboxLimits;
  /** how long the container may take to start and report ready */
  startTimeoutMs?: number;
}

/**
 * One sandbox container with the warm runner as PID 1, spoken to over the attach stream with
 * length-prefixed JSON frames. Hardening follows reliability.md §2.1: no network, read-only root,
 * tmpfs /tmp, memory/pids/CPU limits, all capabilities dropped, no-new-privileges, uid 65534,
 * no log driver (a 1 GB print must not land on the daemon's disk), code sent over stdin, no mounts.
 */
export class SandboxContainer {
  jobs = 0;
  private readonly queued: RunnerReply[] = [];
  private readonly attached = new ByteQueue();
  private readonly frames = new ByteQueue();
  private pending: { resolve: (reply: RunnerReply) => void; reject: (error: Error) => void } | undefined;
  private lost: SandboxLostError | undefined;

  private constructor(
    readonly engine: DockerEngine,
    readonly container: DockerContainer,
    private readonly attachStream: NodeJS.ReadWriteStream,
  ) {}

  get alive(): boolean {
    return this.lost === undefined;
  }

  static async start(options: StartSandboxOptions): Promise<SandboxContainer> {
    const { engine, image, limits } = options;
    const memory = Math.ceil(limits.memoryBytes + 256 * 1024 ** 2);
    let container: DockerContainer;
    try {
      container = await engine.createContainer({
        Image: image,
        Cmd: ['python3', '-I', '-c', RUNNER_SOURCE],
        User: '65534:65534',
        WorkingDir: '/tmp',
        Env: ['LANG=C.UTF-8', 'HOME=/tmp'],
        Tty: false,
        OpenStdin: true,
        StdinOnce: false,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        NetworkDisabled: true,
        Labels: { [SANDBOX_LABEL]: 'python', [HOST_LABEL]: hostname(), [PID_LABEL]: String(process.pid) },
        HostConfig: {
          NetworkMode: 'none',
          ReadonlyRootfs: true,
          Tmpfs: { '/tmp': `rw,noexec,nosuid,nodev,mode=1777,size=${Math.ceil(limits.tmpfsBytes)}` },
          ShmSize: 16 * 1024 ** 2,
          Memory: memory,
          MemorySwap: memory,
          PidsLimit: Math.floor(limits.pids),
          NanoCpus: Math.round(limits.cpus * 1e9),
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          Ulimits: [
            { Name: 'nofile', Soft: 256, Hard: 256 },
            { Name: 'core', Soft: 0, Hard: 0 },
          ],
          LogConfig: { Type: 'none', Config: {} },
          // the runner is PID 1 on purpose: the kernel ignores kill(1, SIGKILL) from inside, and
          // it reaps and kills every leftover process itself after each job
          Init: false,
          AutoRemove: false,
        },
      });
    } catch (error) {
      throw new AipoError({
        code: 'SANDBOX_UNAVAILABLE',
        message: `could not create a sandbox container from image ${image}: ${describeDockerError(error)} (build it with: node packages/graders/scripts/build-sandbox-image.mjs)`,
        cause: error,
      });
    }
    try {
      // attach before start, so no output is lost (ecosystem.md §5.1)
      const stream = await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
      const sandbox = new SandboxContainer(engine, container, stream);
      sandbox.listen();
      const ready = sandbox.next(options.startTimeoutMs ?? 30_000);
      await container.start();
      const reply = await ready;
      if (reply.status !== 'ready') throw new Error(`runner did not start: ${reply.status}`);
      return sandbox;
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      throw new AipoError({
        code: 'SANDBOX_UNAVAILABLE',
        message: `sandbox container did not start: ${describeDockerError(error)}`,
        cause: error,
      });
    }
  }

  /** Send one job and wait for its reply; past `hostTimeoutMs` the container is killed from the host. */
  async request(message: Record<string, unknown>, hostTimeoutMs: number): Promise<RunnerReply> {
    if (this.lost) throw this.lost;
    const reply = this.next(hostTimeoutMs);
    this.write(message);
    this.jobs += 1;
    return reply;
  }

  /**
   * Send a batch job and hand each reply to `onReply` until the runner marks one `final`. When
   * `onReply` returns false (a wrong answer), a stop is sent and the remaining replies are drained.
   * The host-side kill deadline restarts with every reply.
   */
  async stream(
    message: Record<string, unknown>,
    hostTimeoutMs: number,
    onReply: (reply: RunnerReply) => boolean,
  ): Promise<void> {
    if (this.lost) throw this.lost;
    this.write(message);
    this.jobs += 1;
    let stopped = false;
    for (;;) {
      const reply = await this.next(hostTimeoutMs);
      const keepGoing = stopped ? false : onReply(reply);
      if (reply.final) return;
      if (!keepGoing && !stopped) {
        stopped = true;
        this.write({ op: 'stop' });
      }
    }
  }

  private write(message: Record<string, unknown>): void {
    const body = Buffer.from(JSON.stringify(message));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(body.length);
    this.attachStream.write(Buffer.concat([header, body]));
  }

  /** Kill and remove the container (idempotent, never throws). */
  async destroy(): Promise<void> {
    this.fail(new SandboxLostError('died', 'container destroyed'));
    try {
      this.attachStream.end();
    } catch {
      // the stream may already be gone
    }
    await this.container.remove({ force: true }).catch(() => undefined);
  }

  private next(timeoutMs: number): Promise<RunnerReply> {
    const queued = this.queued.shift();
    if (queued) return Promise.resolve(queued);
    if (this.lost) return Promise.reject(this.lost);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new SandboxLostError('deadline', `no reply within ${Math.round(timeoutMs)} ms; container killed`);
        this.fail(error);
        void this.container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
      }, timeoutMs);
      this.pending = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  private fail(error: SandboxLostError): void {
    if (this.lost) return;
    this.lost = error;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }

  /** Demultiplex Docker's attach stream (8-byte headers, Tty off) and cut stdout into frames. */
  private listen(): void {
    this.attachStream.on('data', (chunk: Buffer) => {
      this.attached.push(chunk);
      while (this.attached.length >= 8) {
        const header = this.attached.peek(8);
        const size = header.readUInt32BE(4);
        if (this.attached.length < 8 + size) break;
        this.attached.take(8);
        const payload = this.attached.take(size);
        if (header[0] === 1) this.onStdout(payload);
      }
    });
    const died = () => this.fail(new SandboxLostError('died', 'sandbox container exited'));
    this.attachStream.on('end', died);
    this.attachStream.on('close', died);
    this.attachStream.on('error', died);
  }

  private onStdout(payload: Buffer): void {
    this.frames.push(payload);
    while (this.frames.length >= 4) {
      const size = this.frames.peek(4).readUInt32BE(0);
      if (size > MAX_FRAME_BYTES) {
        this.fail(new SandboxLostError('died', 'runner frame too large'));
        return;
      }
      if (this.frames.length < 4 + size) return;
      this.frames.take(4);
      const body = this.frames.take(size).toString('utf8');
      let reply: RunnerReply;
      try {
        reply = JSON.parse(body) as RunnerReply;
      } catch {
        this.fail(new SandboxLostError('died', 'unreadable runner reply'));
        return;
      }
      const pending = this.pending;
      this.pending = undefined;
      // batch replies can arrive before the host asks for the next one
      if (pending) pending.resolve(reply);
      else this.queued.push(reply);
    }
  }
}

/**
 * Remove sandbox containers left by dead processes on this host (a crashed harness cannot clean
 * up). Containers of live processes, including other pools, are left alone.
 */
export async function sweepOrphanContainers(engine: DockerEngine): Promise<number> {
  const containers = await engine.listContainers({ all: true, filters: { label: [SANDBOX_LABEL] } });
  let removed = 0;
  for (const container of containers) {
    const labels = container.Labels ?? {};
    if (labels[HOST_LABEL] !== hostname()) continue;
    const pid = Number(labels[PID_LABEL]);
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
    await engine
      .getContainer(container.Id)
      .remove({ force: true })
      .then(() => {
        removed += 1;
      })
      .catch(() => undefined);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
