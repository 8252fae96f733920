import { describe, expect, it } from 'vitest';
import { main } from '../examples/programmatic-rollout';

describe('README example', () => {
  it('runs the programmatic-agent rollout end to end', async () => {
    const trajectory = await main();
    expect(trajectory.text).toBe(
      '12*7 = 84. <query agent="verify">is 12*7 = 84?</query><result>correct</result> Then 84+1 = 85, so \\boxed{85}.',
    );
    expect(trajectory.tokensBySource).toEqual({
      policy: trajectory.text.length - '<result>correct</result>'.length,
      agent: '<result>correct</result>'.length,
    });
    expect(trajectory.finish).toBe('answer');
  });
});
