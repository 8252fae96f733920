// Test support (not exported): decide whether the Docker tests can run, and say why not.
import { createDockerEngine } from './docker-engine';
import { DEFAULT_SANDBOX_IMAGE } from './python-grader';

export const TEST_SANDBOX_IMAGE = process.env.AIPO_SANDBOX_IMAGE ?? DEFAULT_SANDBOX_IMAGE;

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)),
  ]);
}

/**
 * Undefined when an engine answers and the sandbox image exists; otherwise the reason, printed.
 * With AIPO_REQUIRE_DOCKER=1 (CI) a missing engine or image fails instead of skipping.
 */
export async function dockerSkipReason(): Promise<string | undefined> {
  let reason: string | undefined;
  try {
    const engine = createDockerEngine();
    await within(engine.ping(), 5_000);
    try {
      await within(engine.getImage(TEST_SANDBOX_IMAGE).inspect(), 5_000);
    } catch {
      reason = `sandbox image ${TEST_SANDBOX_IMAGE} is missing (node packages/graders/scripts/build-sandbox-image.mjs)`;
    }
  } catch (error) {
    reason = `no Docker engine reachable (${error instanceof Error ? error.message : String(error)})`;
  }
  if (reason !== undefined && process.env.AIPO_REQUIRE_DOCKER === '1') {
    throw new Error(`AIPO_REQUIRE_DOCKER=1 but ${reason}`);
  }
  if (reason !== undefined) process.stderr.write(`skipping Docker sandbox tests: ${reason}\n`);
  return reason;
}

/** Fenced like a model answer, so the grader's LiveCodeBench extraction is exercised too. */
export function fenced(code: string, language = 'python'): string {
  return `Here is my solution.\n\`\`\`${language}\n${code}\n\`\`\`\n`;
}
