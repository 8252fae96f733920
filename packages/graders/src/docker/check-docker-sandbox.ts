import { createDockerEngine, type DockerEngineOptions } from './docker-engine';
import { DEFAULT_SANDBOX_IMAGE } from './python-grader';

export interface CheckDockerSandboxOptions {
  /** the sandbox image that must exist (default: DEFAULT_SANDBOX_IMAGE) */
  image?: string;
  /** how long to wait for the engine to answer (default 5 s) */
  timeoutMs?: number;
  /** engine connection (default: DOCKER_HOST or the local socket) */
  engine?: DockerEngineOptions;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Is the Python sandbox usable here? Resolves to `undefined` when an engine answers and the image
 * exists, else to the reason (never throws), so callers can skip or fail with a clear message.
 */
export async function checkDockerSandbox(options: CheckDockerSandboxOptions = {}): Promise<string | undefined> {
  const image = options.image ?? DEFAULT_SANDBOX_IMAGE;
  const timeoutMs = options.timeoutMs ?? 5_000;
  try {
    const engine = createDockerEngine(options.engine);
    await within(engine.ping(), timeoutMs);
    try {
      await within(engine.getImage(image).inspect(), timeoutMs);
      return undefined;
    } catch {
      return `sandbox image ${image} is missing (build it with \`aipo sandbox build-image\`)`;
    }
  } catch (error) {
    return `no Docker engine reachable (${error instanceof Error ? error.message : String(error)})`;
  }
}
