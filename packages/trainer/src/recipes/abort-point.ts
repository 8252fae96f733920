/**
 * Give the event loop one turn, then throw if `signal` was aborted. A training loop whose awaits all
 * settle as microtasks (tfjs reads on the cpu and wasm backends do) never lets a macrotask run, so a
 * SIGINT/SIGTERM handler, which aborts the run's signal, would wait until the whole loop ended
 * (an `aipo demo` warm-up took over 25 s to stop). One `setImmediate` per step costs microseconds.
 */
export async function abortPoint(signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  signal.throwIfAborted();
}
