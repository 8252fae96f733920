import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '@aipo/bench';
import { type OpenAiServer, type ScriptedReply, startOpenAiServer } from '@aipo/bench/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASETS, expectedCorrect, math500Recordings, meanAtN, readMath500 } from './helpers/math500-recordings';
import { runCli } from './helpers/run-cli';
import { datasetsAvailable } from './helpers/shared-datasets';

const available = datasetsAvailable();
const PROBLEMS = 24;
const N = 2;
const SEED = 3;

/** Every fault the issue names; each first attempt of a sample gets one of them, chosen by hash. */
const FAULTS: Array<[string, ScriptedReply]> = [
  ['429 retry-after-ms', { kind: 'status', status: 429, headers: { 'retry-after-ms': '40' } }],
  ['429 retry-after seconds', { kind: 'status', status: 429, headers: { 'retry-after': '1' } }],
  ['429 retry-after date', { kind: 'status', status: 429, headers: { 'retry-after': new Date(0).toUTCString() } }],
  ['429 x-ratelimit-reset-requests', { kind: 'status', status: 429, headers: { 'x-ratelimit-reset-requests': '0.05s' } }],
  ['500', { kind: 'status', status: 500 }],
  ['502 HTML page', { kind: 'status', status: 502, contentType: 'text/html', body: '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>' }],
  ['200 HTML page', { kind: 'status', status: 200, contentType: 'text/html', body: '<html><body>maintenance</body></html>' }],
  ['stall', { kind: 'stall' }],
  ['truncated JSON', { kind: 'truncated' }],
  ['connection reset', { kind: 'reset' }],
];

function faultFor(prompt: string, seed: number | undefined): [string, ScriptedReply] {
  const index = createHash('sha256').update(`${prompt}|${seed}`).digest().readUInt32BE(0) % FAULTS.length;
  return FAULTS[index] as [string, ScriptedReply];
}

describe.skipIf(!available)('aipo bench run against a fault-injecting server', () => {
  const records = available ? readMath500(PROBLEMS + 1) : [];
  const scored = records.slice(0, PROBLEMS);
  const refused = records[PROBLEMS];
  let server: OpenAiServer;
  const faultsSent = new Map<string, number>();
  beforeAll(async () => {
    const recorded = math500Recordings(records);
    server = await startOpenAiServer({
      respond: (request) => {
        // One problem is refused for good (400): an API error, never a wrong answer.
        if (refused && request.prompt.startsWith(refused.problem)) return { kind: 'status', status: 400, body: '{"error":{"message":"context_length_exceeded"}}' };
        if (request.attempt === 1) {
          const [name, fault] = faultFor(request.prompt, request.seed);
          faultsSent.set(name, (faultsSent.get(name) ?? 0) + 1);
          return fault;
        }
        return recorded(request);
      },
    });
  });
  afterAll(() => server.close());

  it('loses nothing and mis-scores nothing: the same scores as the recordings imply', async () => {
    const output = mkdtempSync(join(tmpdir(), 'aipo-e2e-faults-'));
    const result = await runCli([
      'bench', 'run', 'math500', '--model', 'recorded', '--base-url', server.url, '--data-dir', DATASETS, '--limit', String(PROBLEMS + 1),
      '-n', String(N), '--seed', String(SEED), '--timeout', '1500', '--concurrency', '6', '--output', output, '--format', 'json',
    ]);
    expect(result.code).toBe(0);
    const summary = (JSON.parse(readFileSync(join(output, 'summary.json'), 'utf8')) as { summaries: RunSummary[] }).summaries[0] as RunSummary;
    const correct = expectedCorrect({ records: scored, n: N, seed: SEED });
    expect(summary.perProblem.slice(0, PROBLEMS).map((problem) => problem.correct)).toEqual(correct);
    expect(summary.perProblem.slice(0, PROBLEMS).map((problem) => problem.samples)).toEqual(scored.map(() => N));
    expect(summary.pass1.value).toBeCloseTo(meanAtN(correct, N), 12);
    // The refused problem is an API error, left out of the score rather than counted wrong.
    expect(summary.perProblem[PROBLEMS]).toMatchObject({ samples: 0, errors: N, pass1: null });
    expect(summary.samples).toMatchObject({ total: (PROBLEMS + 1) * N, graded: PROBLEMS * N, errors: N, errorKinds: { permanent: N } });
    expect(summary.problems).toEqual({ total: PROBLEMS + 1, scored: PROBLEMS, unscored: 1 });
    // Every fault kind was actually injected at least once.
    expect([...faultsSent.keys()].sort()).toEqual(FAULTS.map(([name]) => name).sort());
  });
});
