import { checkDockerSandbox } from '@aipo/graders/docker';

/**
 * Undefined when a Docker engine answers and the sandbox image exists; otherwise the reason,
 * printed. With AIPO_REQUIRE_DOCKER=1 a missing engine or image is a failure, not a skip.
 */
export async function dockerSkipReason(): Promise<string | undefined> {
  const reason = await checkDockerSandbox();
  if (reason !== undefined && process.env.AIPO_REQUIRE_DOCKER === '1') throw new Error(`AIPO_REQUIRE_DOCKER=1 but ${reason}`);
  if (reason !== undefined) process.stdout.write(`skipping LiveCodeBench Docker end-to-end test: ${reason}\n`);
  return reason;
}
