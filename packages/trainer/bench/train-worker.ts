// One benchmark configuration in its own process (kernel registrations are process-global):
//   node --conditions=@aipo/source --import tsx bench/train-worker.ts <backend> <patches> <trainRuns> <sampleRuns>
// Prints one JSON line. Workload of shared/reference/tfjs-perf.md Q2: d=128, 4 layers, 4 heads,
// FFN 384, vocab 512, tied head; train = one policy-gradient step on B=16 × T=128 (fwd + bwd +
// clip + AdamW); fwd = a no-grad log-prob pass; sampling = 16 sequences, prompt 64, 64 new tokens.
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import {
  CausalLM,
  computeLogProbs,
  createRandomWeights,
  createRng,
  createTrainer,
  generate,
  parseModelConfig,
  selectBackend,
  type BackendName,
  type TrajectoryBatch,
} from '../src/index';
import { PERF_MODEL_CONFIG } from './perf-model';

const [backendArg = 'wasm', patchArg = 'all', trainRunsArg = '5', sampleRunsArg = '3'] = process.argv.slice(2);
// patches: `all` = every patch, native sgemm when built; `wasm` = every patch, XNNPACK matmul only;
// `segsum` = stock BatchMatMul; `none` = stock kernels.
const choice = await selectBackend({
  backend: backendArg as BackendName,
  kernelPatches: patchArg === 'all' || patchArg === 'wasm' ? true : patchArg === 'segsum' ? 'segment-sum-only' : false,
  nativeMatMul: patchArg === 'all',
});

const config = parseModelConfig(PERF_MODEL_CONFIG);
const model = CausalLM.fromTensors({ config, tensors: createRandomWeights({ config, seed: 1, std: 0.05 }) });
const rng = createRng({ seed: 2 });
const token = () => Math.floor(rng.next() * 512);
const B = 16;
const batch: TrajectoryBatch = {
  prompts: Array.from({ length: B }, () => Array.from({ length: 65 }, token)),
  responses: Array.from({ length: B }, () => Array.from({ length: 64 }, token)),
};
const T = 64;
const advantages = Float32Array.from({ length: B }, (_, b) => (b % 2 === 0 ? 1 : -1));
const trainer = createTrainer({ model, learningRate: 1e-3 });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
// Wall time, and the process's CPU time (user + system): on a machine shared with other jobs the
// CPU time is the better estimate of what the step costs on an idle core (wasm runs one thread).
const time = async (runs: number, body: () => Promise<unknown>) => {
  await body(); // warm-up
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    await body();
    const used = process.cpuUsage(cpu);
    times.push(performance.now() - start);
    cpuTimes.push((used.user + used.system) / 1000);
  }
  return { medianMs: median(times), medianCpuMs: median(cpuTimes), minCpuMs: Math.min(...cpuTimes), runsMs: times.map((t) => Math.round(t)), cpuRunsMs: cpuTimes.map((t) => Math.round(t)) };
};

const loadAtStart = loadavg();
const trainRuns = Number(trainRunsArg);
const sampleRuns = Number(sampleRunsArg);
const train = await time(trainRuns, () =>
  trainer.step({
    batch,
    lossWeights: ({ rows, logProbs }) => ({
      gradLogProbs: logProbs.map((_, i) => -advantages[rows.start + Math.floor(i / T)]! / (B * T)),
    }),
  }),
);
const forward = await time(trainRuns, () => computeLogProbs(model, batch));
const prompts = batch.prompts.map((p) => p.slice(0, 64));
const sampling = await time(sampleRuns, () => generate({ model, decode: (ids) => ids.join(' '), requests: prompts.map((context, i) => ({ context, maxTokens: 64, temperature: 1, seed: i })) }));
process.stdout.write(
  `${JSON.stringify({
    backend: choice.name,
    patchedKernels: choice.patchedKernels,
    matMul: choice.matMul,
    reason: choice.reason,
    parameters: model.parameterCount(),
    trainStepMs: Math.round(train.medianMs),
    trainStepCpuMs: Math.round(train.medianCpuMs),
    trainStepMinCpuMs: Math.round(train.minCpuMs),
    trainRunsMs: train.runsMs,
    trainCpuRunsMs: train.cpuRunsMs,
    forwardLogProbMs: Math.round(forward.medianMs),
    forwardLogProbCpuMs: Math.round(forward.medianCpuMs),
    sampleKvTokensPerSecond: Math.round((B * 64) / (sampling.medianMs / 1000)),
    sampleKvTokensPerCpuSecond: Math.round((B * 64) / (sampling.medianCpuMs / 1000)),
    sampleRunsMs: sampling.runsMs,
    numTensors: tf.memory().numTensors,
    loadAverage: { start: loadAtStart.map((x) => Number(x.toFixed(1))), end: loadavg().map((x) => Number(x.toFixed(1))) },
  })}\n`,
);
