import { createRequire } from 'node:module';
import { AipoError } from '@aipo/core';

/** The part of a dockerode container the sandbox uses (dockerode ships no types of its own). */
export interface DockerContainer {
  readonly id: string;
  attach(options: Record<string, unknown>): Promise<NodeJS.ReadWriteStream>;
  start(): Promise<unknown>;
  kill(options?: Record<string, unknown>): Promise<unknown>;
  remove(options?: Record<string, unknown>): Promise<unknown>;
}

/** The part of a dockerode `Docker` client the sandbox uses. */
export interface DockerEngine {
  createContainer(options: Record<string, unknown>): Promise<DockerContainer>;
  getContainer(id: string): DockerContainer;
  listContainers(options: Record<string, unknown>): Promise<Array<{ Id: string; Labels?: Record<string, string> }>>;
  getImage(name: string): { inspect(): Promise<unknown> };
  ping(): Promise<unknown>;
}

/**
 * How to reach one engine: dockerode's constructor options (`socketPath`, or `host` + `port` +
 * `protocol` and TLS files). Omitted, dockerode reads `DOCKER_HOST` like the docker CLI does.
 */
export interface DockerEngineOptions {
  socketPath?: string;
  host?: string;
  port?: number | string;
  protocol?: 'http' | 'https' | 'ssh';
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** anything else dockerode accepts */
  [option: string]: unknown;
}

type DockerConstructor = new (options?: DockerEngineOptions) => DockerEngine;

let dockerConstructor: DockerConstructor | undefined;

/** Create a dockerode client; dockerode is an optional dependency, loaded on first use. */
export function createDockerEngine(options?: DockerEngineOptions): DockerEngine {
  if (dockerConstructor === undefined) {
    try {
      const loaded = createRequire(import.meta.url)('dockerode') as DockerConstructor | { default: DockerConstructor };
      dockerConstructor = 'default' in loaded ? loaded.default : loaded;
    } catch (error) {
      throw new AipoError({
        code: 'MISSING_DEPENDENCY',
        message: 'the Python code grader needs the optional dependency dockerode (npm install dockerode)',
        cause: error,
      });
    }
  }
  return new dockerConstructor(options);
}

/** Message of a failed Docker call, for SANDBOX_UNAVAILABLE errors. */
export function describeDockerError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
