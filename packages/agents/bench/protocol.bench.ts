import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import {
  createAgentRegistry,
  createArithmeticVerifier,
  createEndpointLimits,
  createKnowledgeTable,
  createOpenAIChatModel,
  createStepOracle,
  runAipoRollout,
} from '../src/index';
import { completion, startOpenAITestServer, streamChunks } from '../src/testing/openai-test-server';
import { createScriptedTokenPolicy, type TextCodec } from '../src/testing/scripted-token-policy';

// A character codec keeps tokenisation cost out of the protocol numbers.
const codec: TextCodec = {
  encode: (text) => [...text].map((char) => char.codePointAt(0) as number),
  decode: (ids) => String.fromCodePoint(...ids),
};

const agents = createAgentRegistry([
  createArithmeticVerifier(),
  createKnowledgeTable({ entries: { 'area of a circle': 'A = \\pi r^2' } }),
  createStepOracle({ nextStep: () => 'add one' }),
]);

const consultingTurns = [
  'First 12*7. <query agent="verify">is 12*7 = 84?</query>',
  ' Then <query agent="knowledge">area of a circle</query>',
  ' Next <query agent="reasoning">what now</query>',
  ' So the answer is \\boxed{85}.',
];
// The same policy text without requests: the baseline the consultation overhead is measured against.
const plainTurns = ['First 12*7. is 12*7 = 84? Then area of a circle Next what now So the answer is \\boxed{85}.'];

async function timeRollouts(turns: string[], count: number): Promise<number> {
  const prompt = codec.encode('user: What is 12*7+1?\n\nassistant: ');
  const started = performance.now();
  for (let index = 0; index < count; index++) {
    await runAipoRollout({ policy: createScriptedTokenPolicy({ codec, turns }), agents, promptTokenIds: prompt });
  }
  return performance.now() - started;
}

async function requestsPerSecond(options: { stream: boolean; total: number; concurrency: number }): Promise<number> {
  const server = await startOpenAITestServer(() =>
    options.stream
      ? { kind: 'sse', chunks: streamChunks(['The answer ', 'is \\boxed{', '42}.']) }
      : { kind: 'json', body: completion('The answer is \\boxed{42}.') },
  );
  try {
    const model = createEndpointLimits({ defaultLimit: options.concurrency }).wrap(
      createOpenAIChatModel({ baseURL: server.baseURL, model: 'bench', stream: options.stream, maxRetries: 0 }),
    );
    const started = performance.now();
    await Promise.all(Array.from({ length: options.total }, () => model.generate([{ role: 'user', content: 'q' }])));
    return (options.total / (performance.now() - started)) * 1000;
  } finally {
    await server.close();
  }
}

export default async function protocolBench(): Promise<Record<string, unknown>> {
  const loadBefore = loadavg()[0];
  const rollouts = 2_000;
  await timeRollouts(consultingTurns, 200); // warm-up
  await timeRollouts(plainTurns, 200);
  const consultingMs = await timeRollouts(consultingTurns, rollouts);
  const plainMs = await timeRollouts(plainTurns, rollouts);
  const consultations = rollouts * 3;
  await requestsPerSecond({ stream: false, total: 200, concurrency: 8 }); // warm-up
  return {
    rollouts,
    consultationsPerRollout: 3,
    rolloutWithConsultationsMicroseconds: (consultingMs / rollouts) * 1000,
    rolloutWithoutConsultationsMicroseconds: (plainMs / rollouts) * 1000,
    overheadPerConsultationMicroseconds: ((consultingMs - plainMs) / consultations) * 1000,
    localServerRequestsPerSecond: await requestsPerSecond({ stream: false, total: 2_000, concurrency: 8 }),
    localServerStreamingRequestsPerSecond: await requestsPerSecond({ stream: true, total: 2_000, concurrency: 8 }),
    // the machine is shared: a high load average means these numbers are pessimistic
    loadAverage1mBefore: loadBefore,
    loadAverage1mAfter: loadavg()[0],
    note: 'programmatic agents, character codec, scripted policy; local node:http server on 127.0.0.1 with concurrency 8',
  };
}
