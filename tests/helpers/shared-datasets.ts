import { existsSync } from 'node:fs';
import { DATASETS } from './math500-recordings';

/** Skip (with the reason printed) when ../shared/datasets is absent; under CI that is a failure. */
export function datasetsAvailable(): boolean {
  if (existsSync(DATASETS)) return true;
  if (process.env.CI) throw new Error(`CI is set but ${DATASETS} is missing`);
  process.stdout.write(`skipping: ${DATASETS} is not present\n`);
  return false;
}
