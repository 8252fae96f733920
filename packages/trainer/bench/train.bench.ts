// Train-step and KV-cache sampling speed per backend on the model of shared/reference/tfjs-perf.md,
// against PyTorch CPU on the same model and workload (bench/torch_baseline.py when Debian's
// python3-torch is installed, else the reference numbers of tfjs-perf.md, marked as such).
// The headline ratio is CPU time (min of N runs) of the tfjs step over PyTorch's, both one thread,
// measured in the same run: on a shared machine CPU time tracks an idle core's wall time far
// better than wall time does. PyTorch is measured before and after the tfjs runs (same load).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

interface Timings {
  trainStepMs: number;
  trainStepCpuMs?: number;
  trainStepMinCpuMs?: number;
  forwardLogProbMs: number;
  forwardLogProbCpuMs?: number;
  sampleKvTokensPerSecond: number;
  sampleKvTokensPerCpuSecond?: number;
}

interface TfjsResult extends Timings {
  backend: string;
  [key: string]: unknown;
}

async function tfjs(backend: string, patches: string, trainRuns: number, sampleRuns: number): Promise<TfjsResult> {
  const { stdout } = await run(process.execPath, ['--no-node-snapshot', '--conditions=@aipo/source', '--import', 'tsx', here('./train-worker.ts'), backend, patches, String(trainRuns), String(sampleRuns)], {
    maxBuffer: 2 ** 24,
    timeout: 30 * 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as TfjsResult;
}

interface TorchResult extends Timings {
  source: string;
  [key: string]: unknown;
}

async function torch(trainRuns: number): Promise<TorchResult | undefined> {
  const python = '/usr/bin/python3';
  if (!existsSync(python)) return undefined;
  try {
    const { stdout } = await run(python, [here('./torch_baseline.py'), String(trainRuns)], { env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' }, timeout: 20 * 60_000 });
    const measured = JSON.parse(stdout.trim().split('\n').pop()!) as Omit<TorchResult, 'source'>;
    return { ...measured, source: 'measured here: bench/torch_baseline.py, 1 thread' } as TorchResult;
  } catch {
    return undefined;
  }
}

/** The better (lower time, higher throughput) of two torch runs, field by field. */
function best(a: TorchResult | undefined, b: TorchResult | undefined): TorchResult {
  if (a === undefined || b === undefined) {
    // tfjs-perf.md Q2, "PyTorch 1.13 CPU, 1 core" row (Haswell OpenBLAS kernels).
    return a ?? b ?? { trainStepMs: 200, forwardLogProbMs: 68, sampleKvTokensPerSecond: 6042, source: 'reference numbers from shared/reference/tfjs-perf.md (not measured in this run)' };
  }
  const low = (x: number | undefined, y: number | undefined) => (x === undefined ? y : y === undefined ? x : Math.min(x, y));
  const high = (x: number | undefined, y: number | undefined) => (x === undefined ? y : y === undefined ? x : Math.max(x, y));
  return {
    ...a,
    trainStepMs: low(a.trainStepMs, b.trainStepMs)!,
    trainStepCpuMs: low(a.trainStepCpuMs, b.trainStepCpuMs),
    trainStepMinCpuMs: low(a.trainStepMinCpuMs, b.trainStepMinCpuMs),
    forwardLogProbMs: low(a.forwardLogProbMs, b.forwardLogProbMs)!,
    forwardLogProbCpuMs: low(a.forwardLogProbCpuMs, b.forwardLogProbCpuMs),
    sampleKvTokensPerSecond: high(a.sampleKvTokensPerSecond, b.sampleKvTokensPerSecond)!,
    sampleKvTokensPerCpuSecond: high(a.sampleKvTokensPerCpuSecond, b.sampleKvTokensPerCpuSecond),
    runs: [a, b],
    source: `${a.source}; best of a run before and a run after the tfjs workers`,
  };
}

export default async function trainBench(): Promise<Record<string, unknown>> {
  const quick = process.env.AIPO_BENCH_QUICK === '1';
  // The optional native kernels (native/build.mjs never fails; without a compiler the native row
  // falls back to XNNPACK and its `matMul` field says why).
  const nativeBuild = (await run(process.execPath, [here('../native/build.mjs')])).stdout.trim();
  const loadAtStart = loadavg().map((x) => Number(x.toFixed(1)));
  const trainRuns = quick ? 3 : 7;
  const torchBefore = await torch(trainRuns);
  const native = await tfjs('wasm', 'all', trainRuns, quick ? 1 : 5);
  const xnnpack = await tfjs('wasm', 'wasm', trainRuns, quick ? 1 : 3);
  const wasmStock = await tfjs('wasm', 'segsum', quick ? 1 : 3, quick ? 1 : 2);
  const cpu = await tfjs('cpu', 'all', 1, 1);
  const torchAfter = await torch(trainRuns);
  const baseline = best(torchBefore, torchAfter);
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : Number((a / b).toFixed(2)));
  const ratios = (result: TfjsResult) => ({
    trainStepMinCpuTimeVsTorch: ratio(result.trainStepMinCpuMs, baseline.trainStepMinCpuMs),
    trainStepCpuTimeVsTorch: ratio(result.trainStepCpuMs, baseline.trainStepCpuMs),
    trainStepTimeVsTorch: ratio(result.trainStepMs, baseline.trainStepMs),
    forwardTimeVsTorch: ratio(result.forwardLogProbMs, baseline.forwardLogProbMs),
    samplingTimeVsTorch: ratio(baseline.sampleKvTokensPerSecond, result.sampleKvTokensPerSecond),
    samplingCpuTimeVsTorch: ratio(baseline.sampleKvTokensPerCpuSecond, result.sampleKvTokensPerCpuSecond),
  });
  return {
    loadAverage: { start: loadAtStart, end: loadavg().map((x) => Number(x.toFixed(1))) },
    model: 'llama-style d=128, 4 layers, 4 heads, FFN 384, vocab 512, tied head',
    workload: 'train: B=16 x T=128 policy-gradient step (fwd+bwd+clip+AdamW); fwd: log-prob pass; sampling: 16 x (64 prompt + 64 new), KV cache, temperature 1',
    targets: { trainStepTimeVsTorch: 1.5, samplingTimeVsTorch: 1.0 },
    nativeBuild,
    headline: 'trainStepMinCpuTimeVsTorch of "wasm (patched, native matmul)": min-of-N process CPU time, one thread each, same run',
    torch: baseline,
    backends: {
      'wasm (patched, native matmul)': { ...native, ...ratios(native) },
      'wasm (patched, XNNPACK matmul)': { ...xnnpack, ...ratios(xnnpack) },
      'wasm (stock BatchMatMul, JS segment sum)': { ...wasmStock, ...ratios(wasmStock) },
      'cpu (JS segment sum)': { ...cpu, ...ratios(cpu) },
    },
  };
}
