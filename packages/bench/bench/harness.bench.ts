// Harness overhead: how many samples per second `runBenchmark` moves through a real HTTP round
// trip, math grading and the fsync'd results file, against a zero-latency local server; and
// whether memory stays flat. promptfoo 0.123 manages 142 samples/s here and grows 24 KiB/sample
// (ecosystem.md §2; the anchor). The server runs in a child process, so its CPU is not
// counted as the harness's. Several runs (AIPO_HARNESS_RUNS, default 3): the machine is shared, so
// the best and median wall rates and the min and median CPU cost are reported with the load average.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { builtinGraders, closeMathPool } from '@aipo/graders';
import { type BenchItem, createSampler, runBenchmark, summarizeRun } from '../src/index';

const PROBLEMS = Number(process.env.AIPO_HARNESS_PROBLEMS ?? 2000);
const RUNS = Number(process.env.AIPO_HARNESS_RUNS ?? 3);
const SAMPLES_PER_PROBLEM = 10;
const TOTAL = PROBLEMS * SAMPLES_PER_PROBLEM;

interface MemoryPoint {
  samples: number;
  rssMiB: number;
  heapMiB: number;
}

function slopeBytesPerSample(points: readonly MemoryPoint[], field: 'rssMiB' | 'heapMiB'): number | null {
  // Least squares over the checkpoints after warm-up: robust to one GC landing on a checkpoint.
  const n = points.length;
  if (n < 2) return null;
  const meanX = points.reduce((sum, point) => sum + point.samples, 0) / n;
  const meanY = points.reduce((sum, point) => sum + point[field], 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const point of points) {
    numerator += (point.samples - meanX) * (point[field] - meanY);
    denominator += (point.samples - meanX) ** 2;
  }
  return Math.round((numerator / denominator) * 2 ** 20);
}

/** A full GC before each memory checkpoint, so the slope measures what is retained, not garbage. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** CPU seconds (user + system) a child process has used so far, from /proc (Linux; undefined elsewhere). */
function childCpuSeconds(pid: number | undefined): number | undefined {
  try {
    // fields after the parenthesised command name: utime and stime are the 12th and 13th
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const round = (value: number, digits: number) => Number(value.toFixed(digits));

async function runOnce({ url, serverPid, items, gc }: { url: string; serverPid: number | undefined; items: BenchItem[]; gc: () => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'aipo-harness-'));
  const memory: MemoryPoint[] = [];
  let nextCheckpoint = 2000;
  try {
    gc();
    const loadBefore = loadavg()[0] ?? 0;
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const serverCpuStart = childCpuSeconds(serverPid);
    const outcome = await runBenchmark({
      header: { benchmark: 'synthetic-sum', model: 'zero-latency', template: 'default', sampling: { temperature: 1 }, seed: 0, n: SAMPLES_PER_PROBLEM, dataset: {} },
      items,
      template: { user: '{problem}' },
      grader: builtinGraders().get('math'),
      sampler: createSampler({ baseURL: url, model: 'zero-latency', concurrency: 32 }),
      resultsPath: join(dir, 'results.jsonl'),
      gradeConcurrency: 8,
      onProgress: ({ phase, done }) => {
        if (phase === 'grading' && done >= nextCheckpoint) {
          gc();
          const usage = process.memoryUsage();
          memory.push({ samples: done, rssMiB: usage.rss / 2 ** 20, heapMiB: usage.heapUsed / 2 ** 20 });
          nextCheckpoint += 2000;
        }
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const serverCpuEnd = childCpuSeconds(serverPid);
    const summary = summarizeRun({ benchmark: 'synthetic-sum', model: 'zero-latency', n: SAMPLES_PER_PROBLEM, items, verdicts: outcome.verdicts, breakdowns: ['level'] });
    const afterWarmUp = memory.filter((point) => point.samples >= 4000);
    return {
      seconds: round(seconds, 2),
      samplesPerSecond: Math.round(TOTAL / seconds),
      // CPU time of the harness process (all threads, incl. the libuv pool doing the fsyncs; not
      // the server): a load-independent cost, since the 2 shared cores are often busy.
      cpuMsPerSample: round((cpu.user + cpu.system) / 1000 / TOTAL, 3),
      // kernel time is mostly the loopback TCP stack and the fsyncs
      userCpuMsPerSample: round(cpu.user / 1000 / TOTAL, 3),
      systemCpuMsPerSample: round(cpu.system / 1000 / TOTAL, 3),
      // the model server's share of the same 2 cores (not part of the harness, but it competes for them)
      serverCpuMsPerSample: serverCpuStart === undefined || serverCpuEnd === undefined ? null : round(((serverCpuEnd - serverCpuStart) * 1000) / TOTAL, 3),
      loadAverage1m: { before: round(loadBefore, 2), after: round(loadavg()[0] ?? 0, 2) },
      pass1: round(summary.pass1.value, 4),
      errors: summary.samples.errors,
      rssGrowthBytesPerSample: slopeBytesPerSample(afterWarmUp, 'rssMiB'),
      heapGrowthBytesPerSample: slopeBytesPerSample(afterWarmUp, 'heapMiB'),
      memory: memory.map((point) => ({ samples: point.samples, rssMiB: round(point.rssMiB, 1), heapMiB: round(point.heapMiB, 1) })),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function harness(): Promise<Record<string, unknown>> {
  const items: BenchItem[] = Array.from({ length: PROBLEMS }, (_, index) => ({
    id: `p${index}`,
    variables: { problem: `Compute ${index} + ${index % 7}.` },
    reference: String(index + (index % 7)),
    tags: { level: String(1 + (index % 5)) },
  }));
  const serverProcess = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./zero-latency-server.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    serverProcess.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    serverProcess.once('exit', (code) => reject(new Error(`the benchmark server exited with ${code}`)));
  });
  const gc = collectGarbage();
  try {
    const runs = [];
    for (let run = 0; run < RUNS; run++) runs.push(await runOnce({ url, serverPid: serverProcess.pid, items, gc }));
    const rates = runs.map((run) => run.samplesPerSecond);
    const cpuCosts = runs.map((run) => run.cpuMsPerSample);
    return {
      samples: TOTAL,
      runs: runs.length,
      targetSamplesPerSecond: 1000,
      samplesPerSecond: { best: Math.max(...rates), median: median(rates) },
      cpuMsPerSample: { min: Math.min(...cpuCosts), median: round(median(cpuCosts), 3) },
      samplesPerCpuSecond: { best: Math.round(1000 / Math.min(...cpuCosts)), median: Math.round(1000 / median(cpuCosts)) },
      promptfooSamplesPerSecond: 142,
      promptfooGrowthBytesPerSample: 24 * 1024,
      perRun: runs,
      notes:
        'the server runs in a child process; harness CPU covers the sampler, the math grader and the results file (all threads); memory is read after a full GC at every 2k graded samples and the slope is least squares over checkpoints from 4k samples on; wall rates depend on the load average recorded per run',
    };
  } finally {
    serverProcess.kill('SIGTERM');
    await closeMathPool();
  }
}
