// `npm run bench -w @aipo/core` → bench/results/core.json: issue 2's two benchmarks in one record,
// the 2M-token training step (step.ts) and pass@k / cons@k / entropy (pass-at-k.ts).
import runPassAtK from './pass-at-k';
import runStep from './step';

export default async function run(): Promise<Record<string, unknown>> {
  const step = await runStep();
  const passAtK = await runPassAtK();
  return { step, passAtK };
}
