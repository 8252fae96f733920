// KV-cache sampling speed on the model of shared/reference/tfjs-perf.md (d=128, 4 layers, 4 heads,
// FFN 384, vocab 512, tied head): 16 sequences × (64 prompt + 64 new tokens), temperature 1,
// through `generate` (the decode path of src/model/decode-forward.ts), against PyTorch CPU on the
// same model and workload (bench/torch_baseline.py). The decode path runs no tfjs op: the backend
// only holds the model's variables, and the matmuls run in the native sgemm when it is built (the
// "wasm, no native addon" configuration sets AIPO_NATIVE_MATMUL=0 to measure the wasm SIMD kernel). Each configuration runs in its own process
// (kernel registrations are process-global): this file re-runs itself with AIPO_SAMPLE_WORKER set.
// Numbers: min and median of N runs, wall and process CPU time, with the load average, because the
// machine is shared (CPU time is the better estimate of an idle core).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { BackendName } from '../src/index';
import { PERF_MODEL_CONFIG } from './perf-model';

const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);
const B = 16;
const PROMPT = 64;
const NEW = 64;

interface Measured {
  backend: string;
  /** what runs the decode path's matmuls */
  decodeMatMul: string;
  runs: number;
  tokensPerSecondMedian: number;
  tokensPerSecondBest: number;
  tokensPerCpuSecondMedian: number;
  tokensPerCpuSecondBest: number;
  runsMs: number[];
  cpuRunsMs: number[];
  numTensorsBefore: number;
  numTensorsAfter: number;
  loadAverage: number[];
}

async function worker(backend: string, runs: number): Promise<Measured> {
  const tf = await import('@tensorflow/tfjs');
  const { CausalLM, createRandomWeights, createRng, generate, loadNativeMatMul, parseModelConfig, selectBackend } = await import('../src/index');
  const choice = await selectBackend({ backend: backend as BackendName });
  const config = parseModelConfig(PERF_MODEL_CONFIG);
  const model = CausalLM.fromTensors({ config, tensors: createRandomWeights({ config, seed: 1, std: 0.05 }) });
  const rng = createRng({ seed: 2 });
  const prompts = Array.from({ length: B }, () => Array.from({ length: PROMPT }, () => Math.floor(rng.next() * 512)));
  // no stop tokens: every row samples exactly NEW tokens, as the PyTorch loop does
  const body = () => generate({ model, decode: () => '', requests: prompts.map((context, i) => ({ context, maxTokens: NEW, temperature: 1, seed: i })) });
  await body(); // warm-up (XNNPACK operators, JIT)
  const numTensorsBefore = tf.memory().numTensors;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const usage = process.cpuUsage();
    const results = await body();
    const used = process.cpuUsage(usage);
    wall.push(performance.now() - start);
    cpu.push((used.user + used.system) / 1000);
    if (results.some((result) => result.tokenIds.length !== NEW)) throw new Error('a row stopped early');
  }
  const tokens = B * NEW;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const rate = (ms: number) => Math.round(tokens / (ms / 1000));
  const native = loadNativeMatMul();
  return {
    backend: choice.name,
    decodeMatMul: native.available ? 'native AVX2/FMA sgemm' : `wasm SIMD kernel (${native.reason})`,
    runs,
    tokensPerSecondMedian: rate(median(wall)),
    tokensPerSecondBest: rate(Math.min(...wall)),
    tokensPerCpuSecondMedian: rate(median(cpu)),
    tokensPerCpuSecondBest: rate(Math.min(...cpu)),
    runsMs: wall.map(Math.round),
    cpuRunsMs: cpu.map(Math.round),
    numTensorsBefore,
    numTensorsAfter: tf.memory().numTensors,
    loadAverage: loadavg().map((x) => Number(x.toFixed(1))),
  };
}

async function inProcess(backend: string, runs: number, env: Record<string, string> = {}): Promise<Measured> {
  const { stdout } = await run(process.execPath, ['--no-node-snapshot', '--conditions=@aipo/source', '--import', 'tsx', self], {
    env: { ...process.env, ...env, AIPO_SAMPLE_WORKER: `${backend}:${runs}` },
    maxBuffer: 2 ** 24,
    timeout: 30 * 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Measured;
}

interface Torch {
  sampleKvTokensPerSecond: number;
  sampleKvTokensPerCpuSecond: number;
  source: string;
}

async function torch(): Promise<Torch> {
  const python = '/usr/bin/python3';
  const script = fileURLToPath(new URL('./torch_baseline.py', import.meta.url));
  if (existsSync(python)) {
    try {
      const { stdout } = await run(python, [script], { env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' }, timeout: 20 * 60_000 });
      const parsed = JSON.parse(stdout.trim().split('\n').pop()!) as Torch;
      return { sampleKvTokensPerSecond: parsed.sampleKvTokensPerSecond, sampleKvTokensPerCpuSecond: parsed.sampleKvTokensPerCpuSecond, source: 'measured here: bench/torch_baseline.py, 1 thread (median of 5)' };
    } catch {
      // fall through to the reference numbers
    }
  }
  // tfjs-perf.md Q2, "PyTorch 1.13 CPU, 1 core" row.
  return { sampleKvTokensPerSecond: 6042, sampleKvTokensPerCpuSecond: 6042, source: 'reference numbers from shared/reference/tfjs-perf.md (not measured in this run)' };
}

export default async function sampleBench(): Promise<Record<string, unknown>> {
  const runs = process.env.AIPO_BENCH_QUICK === '1' ? 3 : 9;
  // PyTorch right before and right after the wasm run (the load drifts on a shared machine); the
  // faster of the two is the baseline, so the ratio errs against us
  const before = await torch();
  const wasm = await inProcess('wasm', runs);
  const after = await torch();
  const wasmOnly = await inProcess('wasm', Math.min(runs, 5), { AIPO_NATIVE_MATMUL: '0' });
  const cpu = await inProcess('cpu', Math.min(runs, 3));
  const baseline = before.sampleKvTokensPerCpuSecond >= after.sampleKvTokensPerCpuSecond ? before : after;
  // time ratio = PyTorch throughput / ours (≤ 1.0 is the target)
  const ratio = (theirs: number, ours: number) => Number((theirs / ours).toFixed(2));
  const ratios = (m: Measured) => ({
    timeVsTorchWall: ratio(baseline.sampleKvTokensPerSecond, m.tokensPerSecondMedian),
    timeVsTorchCpu: ratio(baseline.sampleKvTokensPerCpuSecond, m.tokensPerCpuSecondMedian),
  });
  return {
    loadAverageAtEnd: loadavg().map((x) => Number(x.toFixed(1))),
    model: 'llama-style d=128, 4 layers, 4 heads, FFN 384, vocab 512, tied head',
    workload: `${B} sequences x (${PROMPT} prompt + ${NEW} new tokens), temperature 1, KV cache; tokens/s = ${B * NEW} / time (prefill included)`,
    target: { timeVsTorch: 1.0 },
    torch: { ...baseline, runs: [before, after].map((run) => ({ tokensPerSecond: run.sampleKvTokensPerSecond, tokensPerCpuSecond: run.sampleKvTokensPerCpuSecond })) },
    backends: { wasm: { ...wasm, ...ratios(wasm) }, 'wasm, no native addon': { ...wasmOnly, ...ratios(wasmOnly) }, cpu: { ...cpu, ...ratios(cpu) } },
  };
}

const workerSpec = process.env.AIPO_SAMPLE_WORKER;
if (workerSpec !== undefined) {
  const [backend = 'wasm', runs = '5'] = workerSpec.split(':');
  process.stdout.write(`${JSON.stringify(await worker(backend, Number(runs)))}\n`);
}
