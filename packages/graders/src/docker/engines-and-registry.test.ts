import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerEngine, type DockerEngine } from './docker-engine';
import { dockerSkipReason, fenced, TEST_SANDBOX_IMAGE } from './docker-test-support';
import { createPythonGrader, type SandboxReport } from './python-grader';
import { SANDBOX_LABEL } from './sandbox-container';
import { startSecondEngine, type SecondEngine } from './testing/second-engine';
import { startTestRegistry, type TestRegistry } from './testing/test-registry';

const skip = await dockerSkipReason();
const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-sandbox-image.mjs', import.meta.url));

/** The dockerode calls these tests need beyond the grader's DockerEngine. */
interface ImageApi {
  tag(options: { repo: string; tag: string }): Promise<unknown>;
  push(options: Record<string, unknown>): Promise<NodeJS.ReadableStream>;
  remove(options?: Record<string, unknown>): Promise<unknown>;
  inspect(): Promise<{ Id: string }>;
}
interface FullEngine extends DockerEngine {
  getImage(name: string): ImageApi;
  listImages(options?: Record<string, unknown>): Promise<Array<{ Id: string; RepoTags?: string[] | null }>>;
  modem: {
    followProgress(stream: NodeJS.ReadableStream, done: (error: Error | null, output: unknown[]) => void): void;
  };
}

/** Waits for a push to finish; a failed push reports its error in the progress stream, not the status. */
function followProgress(engine: FullEngine, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    engine.modem.followProgress(stream, (error, output) => {
      const failed = output.find((event) => typeof event === 'object' && event !== null && 'error' in event) as
        | { error: string }
        | undefined;
      if (error || failed) reject(error ?? new Error(failed?.error));
      else resolve();
    });
  });
}

/** On the test engine: drop the sandbox image and every tag pulled from a test registry, layers included. */
async function forgetSandboxImages(engine: FullEngine): Promise<void> {
  for (const image of await engine.listImages()) {
    const tags = image.RepoTags ?? [];
    if (tags.some((name) => name === TEST_SANDBOX_IMAGE || name.startsWith('127.0.0.1:'))) {
      await engine
        .getImage(image.Id)
        .remove({ force: true })
        .catch(() => undefined);
    }
  }
}

function runScript(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [BUILD_SCRIPT, ...args],
      { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

describe.skipIf(skip !== undefined)('registry pull and a second Docker engine', () => {
  const main = createDockerEngine() as FullEngine;
  const tag = `t${process.pid}`;
  let registry: TestRegistry;
  let second: SecondEngine | undefined;
  let secondReason: string | undefined;
  let repository = '';

  beforeAll(async () => {
    registry = await startTestRegistry();
    repository = `${registry.host}/aipo-sandbox-python`;
    const started = await startSecondEngine();
    if (typeof started === 'string') {
      secondReason = started;
      const message = `second Docker engine unavailable: ${started}`;
      if (process.env.AIPO_REQUIRE_DOCKER === '1' && process.env.AIPO_SKIP_SECOND_ENGINE !== '1')
        throw new Error(message);
      process.stderr.write(`skipping the two-engine test: ${message}\n`);
    } else {
      second = started;
    }
  }, 90_000);

  afterAll(async () => {
    await main
      .getImage(`${repository}:${tag}`)
      .remove()
      .catch(() => undefined);
    await main
      .getImage(`aipo-pulled-${tag}:1`)
      .remove()
      .catch(() => undefined);
    await registry?.close();
    if (second) await forgetSandboxImages(second.engine as FullEngine);
    await second?.stop();
  }, 60_000);

  it('pushes the sandbox image to a v2 registry on 127.0.0.1; the build script pulls it, and it grades', async () => {
    const pushed = `${repository}:${tag}`;
    await main.getImage(TEST_SANDBOX_IMAGE).tag({ repo: repository, tag });
    await followProgress(main, await main.getImage(pushed).push({ tag, authconfig: { serveraddress: registry.host } }));
    expect(registry.requests).toContain(`PUT /v2/aipo-sandbox-python/manifests/${tag}`);
    expect(
      registry.requests.filter((request) => request.startsWith('PUT /v2/aipo-sandbox-python/blobs/uploads/')).length,
    ).toBeGreaterThan(0);
    await main.getImage(pushed).remove();
    await expect(main.getImage(pushed).inspect()).rejects.toBeDefined();

    // the pull path of the build script: into the second engine (a full pull when it lacks the image,
    // and it then serves the two-engine test), or into the main one
    const target = second?.engine ?? main;
    const dockerHost = second?.dockerHost ?? process.env.DOCKER_HOST;
    const pulledName = second ? TEST_SANDBOX_IMAGE : `aipo-pulled-${tag}:1`;
    if (second) await forgetSandboxImages(second.engine as FullEngine);
    const before = registry.requests.length;
    // asynchronously: the registry answers from this very process
    const script = await runScript(['--image', pulledName, '--pull-only'], {
      ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}),
      AIPO_SANDBOX_BASE_IMAGE: pushed,
    });
    expect(script.stderr).toBe('');
    expect(script.code).toBe(0);
    expect(script.stdout).toContain(`tagged ${pushed} as ${pulledName}`);
    const pulls = registry.requests.slice(before);
    expect(pulls.some((request) => request.startsWith('GET /v2/aipo-sandbox-python/manifests/'))).toBe(true);
    const blobGets = pulls.filter((request) => /^GET \/v2\/aipo-sandbox-python\/blobs\/sha256:/.test(request));
    // a fresh engine fetches every layer; the main engine already holds them and fetches the config at most
    if (second) expect(blobGets.length).toBeGreaterThan(1);
    process.stderr.write(`pulled ${pushed}: ${blobGets.length} blobs fetched\n`);

    const grader = createPythonGrader({ image: pulledName, engines: [target], poolSize: 1, spares: 0 });
    try {
      const result = await grader.grade({
        output: fenced('print(sum(map(int, input().split())))'),
        reference: { tests: [{ input: '2 3\n', output: '5\n', testtype: 'stdin' }] },
      });
      expect(result.details.verdict).toBe('accepted');
    } finally {
      await grader.close();
    }
  }, 600_000);

  it('a pool over two real engines runs programs on both', async (context) => {
    if (second === undefined) {
      context.skip(`no second engine: ${secondReason}`);
      return;
    }
    const engines = [main, second.engine];
    const grader = createPythonGrader({ image: TEST_SANDBOX_IMAGE, engines, poolSize: 2, spares: 0 });
    try {
      const ran = await Promise.all(
        Array.from({ length: 6 }, async (_, index) => {
          const result = await grader.grade({
            output: fenced('print(int(input()) * 2)'),
            reference: { tests: [{ input: `${index}\n`, output: `${index * 2}\n`, testtype: 'stdin' }] },
          });
          expect(result.details.verdict).toBe('accepted');
          return (result.details.sandbox as SandboxReport).container as string;
        }),
      );
      // which engine holds each container that ran a program
      const onEngine = await Promise.all(
        engines.map(async (engine) =>
          (await engine.listContainers({ all: true, filters: { label: [SANDBOX_LABEL] } })).map((c) =>
            c.Id.slice(0, 12),
          ),
        ),
      );
      const used = new Set(ran);
      expect(onEngine[0]?.some((id) => used.has(id))).toBe(true);
      expect(onEngine[1]?.some((id) => used.has(id))).toBe(true);
      expect([...used].every((id) => onEngine[0]?.includes(id) || onEngine[1]?.includes(id))).toBe(true);
    } finally {
      await grader.close();
    }
  }, 120_000);
});
