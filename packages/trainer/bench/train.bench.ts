// Train-step and KV-cache sampling speed per backend on the model of shared/reference/tfjs-perf.md,
// against PyTorch CPU on the same model and workload (bench/torch_baseline.py when Debian's
// python3-torch is installed, else the reference numbers of tfjs-perf.md, marked as such).
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
}

async function torch(): Promise<TorchResult> {
  const python = '/usr/bin/python3';
  if (existsSync(python)) {
    try {
      const { stdout } = await run(python, [here('./torch_baseline.py')], { env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' }, timeout: 20 * 60_000 });
      return { ...(JSON.parse(stdout.trim().split('\n').pop()!) as Omit<TorchResult, 'source'>), source: 'measured here: bench/torch_baseline.py, 1 thread' };
    } catch {
      // fall through to the reference numbers
    }
  }
  // tfjs-perf.md Q2, "PyTorch 1.13 CPU, 1 core" row (Haswell OpenBLAS kernels).
  return { trainStepMs: 200, forwardLogProbMs: 68, sampleKvTokensPerSecond: 6042, source: 'reference numbers from shared/reference/tfjs-perf.md (not measured in this run)' };
}

export default async function trainBench(): Promise<Record<string, unknown>> {
  const quick = process.env.AIPO_BENCH_QUICK === '1';
  const wasm = await tfjs('wasm', 'all', quick ? 2 : 7, quick ? 1 : 5);
  const wasmStock = await tfjs('wasm', 'segsum', quick ? 1 : 3, quick ? 1 : 2);
  const cpu = await tfjs('cpu', 'all', 1, 1);
  const baseline = await torch();
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? null : Number((a / b).toFixed(2)));
  const ratios = (result: TfjsResult) => ({
    trainStepTimeVsTorch: ratio(result.trainStepMs, baseline.trainStepMs),
    forwardTimeVsTorch: ratio(result.forwardLogProbMs, baseline.forwardLogProbMs),
    samplingTimeVsTorch: ratio(baseline.sampleKvTokensPerSecond, result.sampleKvTokensPerSecond),
    trainStepCpuTimeVsTorch: ratio(result.trainStepCpuMs, baseline.trainStepCpuMs),
    samplingCpuTimeVsTorch: ratio(baseline.sampleKvTokensPerCpuSecond, result.sampleKvTokensPerCpuSecond),
  });
  return {
    loadAverageAtEnd: loadavg().map((x) => Number(x.toFixed(1))),
    model: 'llama-style d=128, 4 layers, 4 heads, FFN 384, vocab 512, tied head',
    workload: 'train: B=16 x T=128 policy-gradient step (fwd+bwd+clip+AdamW); fwd: log-prob pass; sampling: 16 x (64 prompt + 64 new), KV cache, temperature 1',
    targets: { trainStepTimeVsTorch: 1.5, samplingTimeVsTorch: 1.0 },
    torch: baseline,
    backends: {
      'wasm (patched)': { ...wasm, ...ratios(wasm) },
      'wasm (stock BatchMatMul, JS segment sum)': { ...wasmStock, ...ratios(wasmStock) },
      'cpu (JS segment sum)': { ...cpu, ...ratios(cpu) },
    },
  };
}
