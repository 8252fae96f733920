import { createDockerEngine, DEFAULT_SANDBOX_IMAGE } from '@aipo/graders/docker';

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms))]);
}

/**
 * Undefined when a Docker engine answers and the sandbox image exists; otherwise the reason,
 * printed. With AIPO_REQUIRE_DOCKER=1 a missing engine or image is a failure, not a skip.
 */
export async function dockerSkipReason(): Promise<string | undefined> {
  let reason: string | undefined;
  try {
    const engine = createDockerEngine();
    await within(engine.ping(), 5_000);
    try {
      await within(engine.getImage(DEFAULT_SANDBOX_IMAGE).inspect(), 5_000);
    } catch {
      reason = `sandbox image ${DEFAULT_SANDBOX_IMAGE} is missing (run \`aipo sandbox build-image\`)`;
    }
  } catch (error) {
    reason = `no Docker engine reachable (${error instanceof Error ? error.message : String(error)})`;
  }
  if (reason !== undefined && process.env.AIPO_REQUIRE_DOCKER === '1') throw new Error(`AIPO_REQUIRE_DOCKER=1 but ${reason}`);
  if (reason !== undefined) process.stdout.write(`skipping LiveCodeBench Docker end-to-end test: ${reason}\n`);
  return reason;
}
