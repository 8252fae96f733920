// The harness benchmark's model server, in its own process so the harness's CPU is measured
// alone: it answers "Compute a + b." at once, right unless the sample seed is divisible by 4.
import { startOpenAiServer } from '../src/test/index';

const server = await startOpenAiServer({
  respond: ({ prompt, seed }) => {
    const [, a, b] = /Compute (\d+) \+ (\d+)/.exec(prompt) ?? [];
    const right = (seed ?? 0) % 4 !== 0;
    return { kind: 'reply', content: `<think>add them</think> The sum is $\\boxed{${right ? Number(a) + Number(b) : -1}}$.`, completionTokens: 20 };
  },
});
process.stdout.write(`${server.url}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
