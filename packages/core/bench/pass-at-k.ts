// pass@k over 10k problems × n = 64 for k = 1, 2, 4, …, 64, exact cons@k for n = 64, and entropy (with and without its
// gradient) over one [4096, 32000] logits chunk. Times are the median of several runs, in ms.
import { loadavg } from 'node:os';
import { consensusAtK, createRng, entropyFromLogits, entropyWithGradient, passAtKBatch, randomInt } from '../src/index';

const PROBLEMS = 10_000;
const SAMPLES = 64;
const ROWS = 4096;
const VOCAB = 32_000;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * Median wall time and median CPU time (user + system of this process) over `repeats` runs, in ms.
 * Other processes share the 2 cores, so CPU time is the steadier number under load.
 */
function time(repeats: number, run: () => void): { wallMs: number; cpuMs: number } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    const startCpu = process.cpuUsage();
    run();
    const usage = process.cpuUsage(startCpu);
    wall.push(performance.now() - start);
    cpu.push((usage.user + usage.system) / 1000);
  }
  return { wallMs: Number(median(wall).toFixed(3)), cpuMs: Number(median(cpu).toFixed(3)) };
}

export default async (): Promise<Record<string, unknown>> => {
  const rng = createRng(42);
  const correct = Int32Array.from({ length: PROBLEMS }, () => randomInt(rng, SAMPLES + 1));
  const passAtKMs: Record<string, { wallMs: number; cpuMs: number }> = {};
  const passAtKMean: Record<string, number> = {};
  for (let k = 1; k <= SAMPLES; k *= 2) {
    passAtKMs[`k=${k}`] = time(9, () => passAtKBatch({ samples: SAMPLES, correct, k }));
    passAtKMean[`k=${k}`] = Number(passAtKBatch({ samples: SAMPLES, correct, k }).mean.toFixed(6));
  }
  const allK = time(5, () => {
    for (let k = 1; k <= SAMPLES; k *= 2) passAtKBatch({ samples: SAMPLES, correct, k });
  });

  // cons@k on one problem with n = 64 samples over 6 distinct answers, for every k = 1..64
  const answers = ['a', 'b', 'c', 'd', 'e', null];
  const votes = Array.from({ length: SAMPLES }, () => {
    const answer = answers[randomInt(rng, answers.length)] ?? null;
    return { answer, score: answer === 'a' ? 1 : 0 };
  });
  const consensusAllK = time(3, () => {
    for (let k = 1; k <= SAMPLES; k++) consensusAtK({ samples: votes, k });
  });

  const logits = new Float32Array(ROWS * VOCAB);
  for (let index = 0; index < logits.length; index++) logits[index] = 8 * rng.next() - 4;
  const entropyMs = time(3, () => entropyFromLogits({ logits, vocabSize: VOCAB }));
  const upstream = new Float32Array(ROWS).fill(1 / ROWS);
  const entropyGradientMs = time(3, () => entropyWithGradient({ logits, vocabSize: VOCAB, upstream }));
  return {
    // 1-minute load average at the end: other processes share the 2 cores, so read the times with it
    loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)),
    passAtK: { problems: PROBLEMS, samplesPerProblem: SAMPLES, perK: passAtKMs, allK, meanPassAtK: passAtKMean },
    consensusAtK: { samples: SAMPLES, distinctAnswers: 5, allKFrom1To64: consensusAllK },
    entropy: {
      rows: ROWS,
      vocabSize: VOCAB,
      entropy: entropyMs,
      entropyCpuNsPerLogit: Number(((entropyMs.cpuMs * 1e6) / logits.length).toFixed(3)),
      entropyWithGradient: entropyGradientMs,
      entropyWithGradientCpuNsPerLogit: Number(((entropyGradientMs.cpuMs * 1e6) / logits.length).toFixed(3)),
    },
  };
};
