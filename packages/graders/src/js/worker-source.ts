/**
 * The disposable worker process of the JS grader (CommonJS, run with `node --no-node-snapshot -e`).
 * Each job gets a fresh isolated-vm Isolate and Context; only strings cross the boundary (inputs in,
 * a JSON string out), plus one byte-counting output Callback. A V8 out-of-memory abort kills this
 * process, never the host (reliability.md §1.6); the host then starts a new worker.
 */
export const WORKER_SOURCE = String.raw`
'use strict';
const ivm = require(process.env.AIPO_IVM_PATH);
const { stripTypeScriptTypes } = require('node:module');

// the program's view of the world: print/console.log, readline()/read()/input, and a read-only
// require('fs').readFileSync(0) shim, because judge-style JS programs read stdin in those ways
const PRELUDE = [
  '(function (write, input) {',
  '  const g = globalThis; let line = 0; const lines = input.split("\\n");',
  '  const show = (v) => typeof v === "string" ? v : (() => { try { const s = JSON.stringify(v); return s === undefined ? String(v) : s; } catch { return String(v); } })();',
  '  const out = (...a) => { write(a.map(show).join(" ") + "\\n"); };',
  '  g.print = out;',
  '  g.console = { log: out, info: out, warn: () => {}, error: () => {}, debug: () => {} };',
  '  g.input = input;',
  '  g.read = () => input;',
  '  g.readline = () => (line < lines.length ? lines[line++] : undefined);',
  '  const fs = { readFileSync: (file, encoding) => { if (file === 0 || file === "/dev/stdin") return input; throw new Error("ENOENT: no files in the sandbox"); } };',
  '  g.require = (name) => { if (name === "fs" || name === "node:fs") return fs; throw new Error("Cannot find module " + JSON.stringify(name)); };',
  // captured before the program runs: overwriting JSON.stringify cannot change how results are read
  '  const stringify = JSON.stringify;',
  '  Object.defineProperty(g, "__aipoSerialize", { value: (v) => { const s = stringify(v); return s === undefined ? "null" : s; } });',
  '})',
].join('\n');

let session;

function classify(error, isolate, state) {
  const message = error && error.message ? String(error.message) : String(error);
  if (state.overflow) return { status: 'output_limit' };
  if (state.timedOut || /Script execution timed out/.test(message)) {
    return { status: 'timeout', message: state.cpuExceeded ? 'CPU time limit' : undefined };
  }
  if (/memory limit/i.test(message) || (isolate.isDisposed && !state.disposedByUs)) return { status: 'memory_limit', message };
  if (state.compiling) return { status: 'compile_error', message };
  return { status: 'runtime_error', message };
}

function prepareCode(job) {
  if (job.language !== 'typescript') return job.code;
  return stripTypeScriptTypes(job.code, { mode: 'strip' });
}

async function withDeadline(promise, isolate, state, job) {
  // isolated-vm's timeout covers synchronous code only (#518): race promises with our own clock,
  // and poll the isolate's CPU time so a CPU budget holds apart from the wall-clock one
  let timer;
  let poll;
  const cpuStart = isolate.cpuTime;
  const stop = (reject) => {
    state.timedOut = true;
    state.disposedByUs = true;
    try { isolate.dispose(); } catch {}
    reject(new Error('Script execution timed out.'));
  };
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => stop(reject), job.timeoutMs);
    poll = setInterval(() => {
      let used;
      try { used = Number(isolate.cpuTime - cpuStart) / 1e6; } catch { return; }
      if (used > job.cpuTimeMs) {
        state.cpuExceeded = true;
        stop(reject);
      }
    }, 10);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
    clearInterval(poll);
  }
}

async function start(job, input) {
  const state = { overflow: false, timedOut: false, disposedByUs: false, compiling: true, bytes: 0, out: [] };
  const isolate = new ivm.Isolate({ memoryLimit: job.memoryMb });
  const context = await isolate.createContext();
  const write = new ivm.Callback((text) => {
    if (state.overflow) throw new Error('output limit');
    const value = String(text);
    state.bytes += Buffer.byteLength(value);
    if (state.bytes > job.outputBytes) {
      state.overflow = true;
      throw new Error('output limit');
    }
    state.out.push(value);
  });
  try {
    const install = await context.eval(PRELUDE, { reference: true });
    await install.apply(undefined, [write, input], { arguments: { copy: true }, timeout: 1000 });
    install.release();
    const script = await isolate.compileScript(prepareCode(job), { filename: 'solution.js' });
    state.compiling = false;
    return { isolate, context, state, script };
  } catch (error) {
    try { isolate.dispose(); } catch {}
    throw error;
  }
}

async function runStdin(job) {
  let prepared;
  try {
    prepared = await start(job, job.input);
  } catch (error) {
    return { status: 'compile_error', message: String(error && error.message) };
  }
  const { isolate, context, state, script } = prepared;
  try {
    await withDeadline(script.run(context, { timeout: job.timeoutMs, promise: true }), isolate, state, job);
    if (state.overflow) return { status: 'output_limit' };
    return { status: 'ok', stdout: state.out.join('') };
  } catch (error) {
    return { ...classify(error, isolate, state), stdout: state.out.join('').slice(0, 4096) };
  } finally {
    try { isolate.dispose(); } catch {}
  }
}

async function open(job) {
  let prepared;
  try {
    prepared = await start(job, '');
  } catch (error) {
    return { status: 'compile_error', message: String(error && error.message) };
  }
  const { isolate, context, state, script } = prepared;
  try {
    await withDeadline(script.run(context, { timeout: job.timeoutMs, promise: true }), isolate, state, job);
    const fn = job.fnName;
    // like LiveCodeBench: one Solution instance reused for every test, else a top-level function
    const bind = await context.eval(
      // the user's function may be called anything (even "f" or "target"): only __aipo names here
      '(function () { const __aipoTarget = typeof Solution === "function" ? new Solution() : undefined;' +
        ' const __aipoFn = __aipoTarget !== undefined ? __aipoTarget[' + JSON.stringify(fn) + '] : (typeof ' + fn + ' === "function" ? ' + fn + ' : undefined);' +
        ' if (typeof __aipoFn !== "function") return false;' +
        ' Object.defineProperty(globalThis, "__aipoCall", { value: (...__aipoArgs) => __aipoFn.apply(__aipoTarget, __aipoArgs) });' +
        ' return true; })()',
      { timeout: job.timeoutMs },
    );
    if (bind !== true) {
      isolate.dispose();
      return { status: 'runtime_error', message: 'function ' + fn + ' not found' };
    }
    session = { isolate, context, state };
    return { status: 'ready' };
  } catch (error) {
    const result = classify(error, isolate, state);
    try { isolate.dispose(); } catch {}
    return result;
  }
}

async function call(job) {
  if (!session) return { status: 'runtime_error', message: 'no open program' };
  const { isolate, context, state } = session;
  try {
    const result = await withDeadline(
      context.evalClosure(
        'return (async () => { const args = $0.split("\\n").map((line) => JSON.parse(line));' +
          ' return __aipoSerialize(await __aipoCall(...args)); })()',
        [job.args],
        { timeout: job.timeoutMs, arguments: { copy: true }, result: { promise: true, copy: true } },
      ),
      isolate,
      state,
      job,
    );
    if (state.overflow) throw new Error('output limit');
    if (typeof result !== 'string') return { status: 'runtime_error', message: 'the result is not JSON' };
    return { status: 'ok', value: result };
  } catch (error) {
    const result = classify(error, isolate, state);
    close();
    return result;
  }
}

function close() {
  if (session) {
    try { session.isolate.dispose(); } catch {}
    session = undefined;
  }
  return { status: 'closed' };
}

process.on('message', async (job) => {
  let reply;
  try {
    if (job.op === 'run') reply = await runStdin(job);
    else if (job.op === 'open') reply = await open(job);
    else if (job.op === 'call') reply = await call(job);
    else reply = close();
  } catch (error) {
    reply = { status: 'runtime_error', message: 'worker: ' + String(error && error.message) };
  }
  process.send({ id: job.id, ...reply });
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
`;
