import { describe, expect, it } from 'vitest';
import { makeProblem } from '../tasks/arithmetic-task';
import { createCharGruPolicy } from './char-gru-policy';
import { runSupervisedWarmup } from './supervised-warmup';

describe('runSupervisedWarmup', () => {
  it('stops at an abort fired by a timer (a signal handler), not only once its steps are done', async () => {
    const policy = await createCharGruPolicy({ embeddingSize: 8, hiddenSize: 16, seed: 3 });
    try {
      const controller = new AbortController();
      const steps = 2_000;
      let done = 0;
      // a signal handler (SIGTERM in the CLI) runs as a macrotask, like this timer: the loop must give
      // the event loop a turn, or the abort waits for the whole warm-up
      setTimeout(() => controller.abort(new Error('stop')), 0);
      const run = runSupervisedWarmup({
        policy,
        problems: ['2+3', '7-4'].map(makeProblem),
        steps,
        batchSize: 2,
        learningRate: 0.01,
        seed: 1,
        signal: controller.signal,
        onStep: () => {
          done += 1;
        },
      });
      await expect(run).rejects.toThrow('stop');
      expect(done).toBeLessThan(5);
    } finally {
      policy.dispose();
    }
  });
});
