import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The read-only benchmark data next to the repository (`../shared/datasets`). Tests that need it
 * skip with a printed reason when it is absent, except under CI where absence is a failure.
 */
export function sharedDatasets(): { dir: string; available: boolean } {
  const dir = fileURLToPath(new URL('../../../../../shared/datasets', import.meta.url));
  const available = existsSync(dir);
  if (!available) {
    if (process.env.CI) throw new Error(`CI is set but the shared datasets folder ${dir} is missing`);
    process.stdout.write(`skipping dataset tests: ${dir} is not present (reference data lives next to the repo)\n`);
  }
  return { dir, available };
}
