/**
 * Worker-thread entry of the math pool: receives `{ id, gold, pred, options }`, answers
 * `{ id, verdict }`. It only ever runs trusted code on untrusted strings; the pool terminates it at
 * the deadline, so nothing here needs its own timeout. Plain erasable TypeScript with `.ts`
 * imports, so Node can run it from source as well as from dist.
 */
import { parentPort } from 'node:worker_threads';
import { type CasOptions, LatexComparer } from './compare-latex.ts';

interface CasRequest {
  id: number;
  gold: string;
  pred: string;
  options: CasOptions;
}

const port = parentPort;
if (port === null) throw new Error('cas-worker must run in a worker thread');
const comparer = new LatexComparer();
port.on('message', (request: CasRequest) => {
  try {
    port.postMessage({ id: request.id, verdict: comparer.compare(request) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    port.postMessage({ id: request.id, verdict: { equal: false, method: 'error', reason: `the CAS failed: ${message.slice(0, 200)}` } });
  }
});
port.postMessage({ ready: true });
