// Harness overhead: how many samples per second `runBenchmark` moves through a real HTTP round
// trip, math grading and the fsync'd results file, against a zero-latency local server; and
// whether memory stays flat. promptfoo 0.123 manages 142 samples/s here and grows 24 KiB/sample
// (ecosystem.md §2; the anchor). The server runs in a child process, so its CPU is not counted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { builtinGraders, closeMathPool } from '@aipo/graders';
import { type BenchItem, createSampler, runBenchmark, summarizeRun } from '../src/index';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PROBLEMS = Number(process.env.AIPO_HARNESS_PROBLEMS ?? 2000);
const SAMPLES_PER_PROBLEM = 10;
const TOTAL = PROBLEMS * SAMPLES_PER_PROBLEM;

interface MemoryPoint {
  samples: number;
  rssMiB: number;
  heapMiB: number;
}

function slopeBytesPerSample(points: readonly MemoryPoint[], field: 'rssMiB' | 'heapMiB'): number {
  // Least squares over the checkpoints after warm-up: robust to one GC landing on a checkpoint.
  const n = points.length;
  const meanX = points.reduce((sum, point) => sum + point.samples, 0) / n;
  const meanY = points.reduce((sum, point) => sum + point[field], 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const point of points) {
    numerator += (point.samples - meanX) * (point[field] - meanY);
    denominator += (point.samples - meanX) ** 2;
  }
  return (numerator / denominator) * 2 ** 20;
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

/** A full GC before each memory checkpoint, so the slope measures what is retained, not garbage. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
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
  const dir = mkdtempSync(join(tmpdir(), 'aipo-harness-'));
  const memory: MemoryPoint[] = [];
  let nextCheckpoint = 2000;
  const gc = collectGarbage();
  try {
    const grader = builtinGraders().get('math');
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const serverCpuStart = childCpuSeconds(serverProcess.pid);
    const outcome = await runBenchmark({
      header: { benchmark: 'synthetic-sum', model: 'zero-latency', template: 'default', sampling: { temperature: 1 }, seed: 0, n: SAMPLES_PER_PROBLEM, dataset: {} },
      items,
      template: { user: '{problem}' },
      grader,
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
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const serverCpuEnd = childCpuSeconds(serverProcess.pid);
    const serverCpuSeconds = serverCpuStart === undefined || serverCpuEnd === undefined ? undefined : serverCpuEnd - serverCpuStart;
    const summary = summarizeRun({ benchmark: 'synthetic-sum', model: 'zero-latency', n: SAMPLES_PER_PROBLEM, items, verdicts: outcome.verdicts, breakdowns: ['level'] });
    const afterWarmUp = memory.filter((point) => point.samples >= 4000);
    return {
      samples: TOTAL,
      seconds: Number(seconds.toFixed(2)),
      samplesPerSecond: Math.round(TOTAL / seconds),
      targetSamplesPerSecond: 1000,
      // CPU time of the harness process (all threads, incl. the math worker pool; not the server):
      // a load-independent cost, since the 2 shared cores are often busy with other jobs.
      cpuMsPerSample: Number(((cpuSeconds * 1000) / TOTAL).toFixed(3)),
      // kernel time is mostly the loopback TCP stack (a send on 127.0.0.1 runs the receiver's side too)
      userCpuMsPerSample: Number((cpu.user / 1000 / TOTAL).toFixed(3)),
      systemCpuMsPerSample: Number((cpu.system / 1000 / TOTAL).toFixed(3)),
      samplesPerCpuSecond: Math.round(TOTAL / cpuSeconds),
      // the model server's share of the same 2 cores (it is not part of the harness, but competes for them)
      serverCpuMsPerSample: serverCpuSeconds === undefined ? null : Number(((serverCpuSeconds * 1000) / TOTAL).toFixed(3)),
      loadAverage1m: Number(loadavg()[0]?.toFixed(2)),
      promptfooSamplesPerSecond: 142,
      pass1: Number(summary.pass1.value.toFixed(4)),
      errors: summary.samples.errors,
      rssGrowthBytesPerSample: Math.round(slopeBytesPerSample(afterWarmUp, 'rssMiB')),
      heapGrowthBytesPerSample: Math.round(slopeBytesPerSample(afterWarmUp, 'heapMiB')),
      promptfooGrowthBytesPerSample: 24 * 1024,
      memory: memory.map((point) => ({ samples: point.samples, rssMiB: Number(point.rssMiB.toFixed(1)), heapMiB: Number(point.heapMiB.toFixed(1)) })),
      notes: 'the server runs in a child process; CPU figures cover the harness process only (sampler, math grader worker pool, results file); memory is read after a full GC at every 2k graded samples; the slope is least squares over checkpoints from 4k samples on',
    };
  } finally {
    serverProcess.kill('SIGTERM');
    await closeMathPool();
    rmSync(dir, { recursive: true, force: true });
  }
}
