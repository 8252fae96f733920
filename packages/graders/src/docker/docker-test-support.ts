// Test support (not exported): decide whether the Docker tests can run, and say why not.
import { checkDockerSandbox } from './check-docker-sandbox';
import { DEFAULT_SANDBOX_IMAGE } from './python-grader';

export const TEST_SANDBOX_IMAGE = process.env.AIPO_SANDBOX_IMAGE ?? DEFAULT_SANDBOX_IMAGE;

/**
 * Undefined when an engine answers and the sandbox image exists; otherwise the reason, printed.
 * With AIPO_REQUIRE_DOCKER=1 (CI) a missing engine or image fails instead of skipping.
 */
export async function dockerSkipReason(): Promise<string | undefined> {
  const reason = await checkDockerSandbox({ image: TEST_SANDBOX_IMAGE });
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
