import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { LcbReference } from '../code/lcb-reference';
import { createDockerEngine, type DockerEngine } from './docker-engine';
import { dockerSkipReason, fenced, TEST_SANDBOX_IMAGE } from './docker-test-support';
import { createPythonGrader, type PythonGrader, type PythonGraderOptions, type SandboxReport } from './python-grader';
import { SANDBOX_LABEL, SandboxContainer, sweepOrphanContainers } from './sandbox-container';
import { resolveSandboxLimits } from './sandbox-limits';

const skip = await dockerSkipReason();

const stdin = (...pairs: Array<[string, string]>): LcbReference => ({
  tests: pairs.map(([input, output]) => ({ input, output, testtype: 'stdin' })),
});
const functional = (fn_name: string, ...pairs: Array<[string, string]>): LcbReference => ({
  fn_name,
  tests: pairs.map(([input, output]) => ({ input, output, testtype: 'functional' })),
});

describe('sandbox limits', () => {
  it('refuses zero, negative and non-finite limits (0 must never mean unlimited)', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => resolveSandboxLimits({ timeoutMs: bad })).toThrow(
        expect.objectContaining({ code: 'INVALID_CONFIG' }),
      );
    }
    expect(() => resolveSandboxLimits({ nope: 1 } as never)).toThrow(/unknown sandbox limit/);
    expect(resolveSandboxLimits({ pids: 32 }).pids).toBe(32);
  });
});

describe.skipIf(skip !== undefined)('createPythonGrader (Docker)', () => {
  const grader = createPythonGrader({ image: TEST_SANDBOX_IMAGE, poolSize: 2, limits: { timeoutMs: 2_000 } });
  afterAll(() => grader.close());
  const grade = (code: string, reference: LcbReference) => grader.grade({ output: fenced(code), reference });

  describe('stdin tests (LiveCodeBench grade_stdio)', () => {
    const sum = stdin(['1 2\n', '3\n'], ['10 -4\n', '6\n'], ['0 0\n', '0\n']);

    it('accepts a correct program and reports every test run', async () => {
      const result = await grade('a, b = map(int, input().split())\nprint(a + b)', sum);
      expect(result).toMatchObject({
        pass: true,
        score: 1,
        details: { verdict: 'accepted', testsRun: 3, testsTotal: 3 },
      });
    });

    it('stops at the first failing test and reports it', async () => {
      const result = await grade('a, b = map(int, input().split())\nprint(a + b if a < 5 else 0)', sum);
      expect(result.pass).toBe(false);
      expect(result.details).toMatchObject({
        verdict: 'wrong_answer',
        testsRun: 2,
        failingTest: { index: 1, input: '10 -4\n', expected: '6\n', actual: '0\n' },
      });
    });

    it('compares tokens as Decimals, runs the __main__ block, swallows SystemExit, has the prelude', async () => {
      const code = [
        'def main():',
        '    a, b = map(int, sys.stdin.read().split())', // sys comes from LiveCodeBench's prelude
        '    print(f"{gcd(a, b)}.000")', // so does math.gcd
        '    exit(0)',
        '    print("unreachable")',
        "if __name__ == '__main__':",
        '    main()',
      ].join('\n');
      const result = await grade(code, stdin(['12 18\n', '6\n'], ['7 5\n', '1\n']));
      expect(result.details).toMatchObject({ verdict: 'accepted' });
    });

    it('wraps the program into wrapped_function() like LiveCodeBench, so a module-level `global` fails there too', async () => {
      const code = 'total = 0\ndef bump():\n    global total\n    total += 1\nbump()\nprint(total)';
      expect((await grade(code, stdin(['', '1']))).details).toMatchObject({
        verdict: 'runtime_error',
        failingTest: { message: expect.stringContaining("NameError: name 'total' is not defined") },
      });
    });

    it('calls the wrapped program once per test in one process, with stdin readable every way', async () => {
      const tests = stdin(['a b\n', '1 a b'], ['c\n', '1 c']);
      for (const read of ['input()', 'sys.stdin.read()', 'sys.stdin.buffer.read().decode()', 'open(0).read()']) {
        // `seen` is 1 in every test: module-level names are locals of wrapped_function()
        const code = `import sys, os\nseen = globals().get("seen", 0) + 1\nprint(seen, ${read}.strip())`;
        expect((await grade(code, tests)).details, read).toMatchObject({ verdict: 'accepted', testsRun: 2 });
      }
      // os._exit ends the process mid-batch: the next test gets a new one
      const exiting = 'import sys, os\nprint(1, input())\nsys.stdout.flush()\nos._exit(0)';
      expect((await grade(exiting, tests)).details).toMatchObject({ verdict: 'accepted', testsRun: 2 });
    });

    it('classifies compile errors, runtime errors and a missing code block', async () => {
      expect((await grade('print(', sum)).details).toMatchObject({ verdict: 'compile_error', testsRun: 1 });
      const runtime = await grade('raise ValueError("boom")', sum);
      expect(runtime.details).toMatchObject({
        verdict: 'runtime_error',
        failingTest: { message: expect.stringContaining('ValueError: boom') },
      });
      const none = await grader.grade({ output: 'print(1)  # no fence', reference: sum });
      expect(none).toMatchObject({
        pass: false,
        parseFailed: true,
        details: { verdict: 'compile_error', testsRun: 0 },
      });
    });

    it('times out a slow test at the per-test limit', async () => {
      const result = await grade('import time\ntime.sleep(30)', sum);
      expect(result.details).toMatchObject({ verdict: 'time_limit', testsRun: 1 });
    });

    it('feeds a 50 MB input to a program that never reads it, and closes stdin for one that reads to EOF', async () => {
      // reliability.md P10/P11: concurrent write and read, EOF always sent; 6 s covers the transfer
      const big = `${'9'.repeat(1_000_000)}\n`.repeat(50);
      const roomy = createPythonGrader({ image: TEST_SANDBOX_IMAGE, poolSize: 1 });
      try {
        const run = (code: string, expected: string) =>
          roomy.grade({ output: fenced(code), reference: stdin([big, expected]) });
        expect((await run('print("ok")', 'ok')).details).toMatchObject({ verdict: 'accepted' });
        expect((await run('import sys\nprint(len(sys.stdin.read()))', String(big.length))).details).toMatchObject({
          verdict: 'accepted',
        });
      } finally {
        await roomy.close();
      }
    });
  });

  describe('functional tests (LiveCodeBench grade_call_based)', () => {
    it('calls Solution().<fn_name> with JSON arguments, one instance for all tests', async () => {
      const code = [
        'class Solution:',
        '    calls = 0',
        '    def twoSum(self, nums: List[int], target: int) -> List[int]:',
        '        self.calls += 1',
        '        seen = {}',
        '        for i, x in enumerate(nums):',
        '            if target - x in seen: return [seen[target - x], i]',
        '            seen[x] = i',
        '    def count(self) -> int:',
        '        return self.calls',
      ].join('\n');
      const reference = functional('twoSum', ['[2,7,11,15]\n9', '[0, 1]'], ['[3,2,4]\n6', '[1,2]']);
      expect((await grade(code, reference)).details).toMatchObject({ verdict: 'accepted', testsRun: 2 });
      const counting = `${code}\n    def tally(self, x):\n        self.calls += x\n        return self.calls`;
      expect((await grade(counting, functional('tally', ['1', '1'], ['2', '3'], ['3', '6']))).details).toMatchObject({
        verdict: 'accepted',
      });
    });

    it('uses Python == on the host: a top-level tuple equals a list, 1 == 1.0, nested tuples do not', async () => {
      const code =
        'class Solution:\n    def f(self, kind):\n        return {"tuple": (1, 2), "float": 3.0, "nested": [(1, 2)], "bool": True}[kind]';
      const run = (kind: string, expected: string) => grade(code, functional('f', [`"${kind}"`, expected]));
      expect((await run('tuple', '[1, 2]')).pass).toBe(true);
      expect((await run('float', '3')).pass).toBe(true);
      expect((await run('bool', '1')).pass).toBe(true);
      expect((await run('nested', '[[1, 2]]')).details).toMatchObject({
        verdict: 'wrong_answer',
        failingTest: { actual: '[(1, 2)]' },
      });
    });

    it('stops a streamed batch at the first wrong value (a later test would loop forever)', async () => {
      const code = 'class Solution:\n    def f(self, x):\n        while x == 3: pass\n        return x * 2';
      const result = await grade(code, functional('f', ['1', '2'], ['2', '5'], ['3', '6']));
      expect(result.details).toMatchObject({
        verdict: 'wrong_answer',
        testsRun: 2,
        failingTest: { index: 1, actual: '4' },
      });
      // the container is still usable right after the stop
      expect((await grade(code, functional('f', ['1', '2']))).pass).toBe(true);
    });

    it('finds module-level functions and reports a missing one as a runtime error', async () => {
      expect((await grade('def addTwo(a, b):\n    return a + b', functional('addTwo', ['1\n2', '3']))).pass).toBe(true);
      // the prelude's names count, as in LiveCodeBench: `add` would resolve to operator.add
      expect((await grade('def add(a, b):\n    return 0', functional('add', ['1\n2', '3']))).pass).toBe(false);
      expect((await grade('def other():\n    pass', functional('addTwo', ['1\n2', '3']))).details).toMatchObject({
        verdict: 'runtime_error',
      });
    });

    it('refuses a reference with a malformed expected output (INVALID_ARGUMENT, not a wrong answer)', async () => {
      await expect(grade('def f(): pass', functional('f', ['1', '[1,']))).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    });
  });

  it('an abort signal stops a running program and rejects with ABORTED', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await expect(
      grader.grade({ output: fenced('while True: pass'), reference: stdin(['', '1']), signal: controller.signal }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect((await grade('print(2)', stdin(['', '2']))).pass).toBe(true);
  });

  describe('assert programs (HumanEval / MBPP style)', () => {
    it('passes when the asserts run to the end, fails on an assert or an early exit', async () => {
      const reference = { testCode: 'def check(candidate):\n    assert candidate(2) == 4\n', entryPoint: 'square' };
      expect((await grader.grade({ output: fenced('def square(x):\n    return x * x'), reference })).pass).toBe(true);
      expect(
        (await grader.grade({ output: fenced('def square(x):\n    return x + x + 1'), reference })).details,
      ).toMatchObject({
        verdict: 'runtime_error',
      });
      for (const exit of ['import sys\nsys.exit(0)', 'import os\nos._exit(0)', 'quit()']) {
        const result = await grader.grade({ output: fenced(`def square(x):\n    return 0\n${exit}`), reference });
        expect(result.pass, exit).toBe(false);
      }
    });
  });

  describe('isolation between programs in a warm container', () => {
    it('leaves no files and no processes for the next program', async () => {
      const plant = [
        'import os, subprocess',
        'open("/tmp/planted", "w").write("x")',
        'open("/dev/shm/planted", "w").write("x")',
        'if os.fork() == 0:',
        '    os.setsid()',
        '    if os.fork() == 0:',
        '        import time',
        '        time.sleep(300)',
        '    os._exit(0)',
        'print("planted")',
      ].join('\n');
      const probe = [
        'import os',
        'others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())]',
        'print(os.path.exists("/tmp/planted"), os.path.exists("/dev/shm/planted"), len(others))',
      ].join('\n');
      // pool of 2: run the probe several times so it lands in the planting container too
      expect((await grade(plant, stdin(['', 'planted']))).details.verdict).toBe('accepted');
      for (let round = 0; round < 4; round += 1) {
        expect((await grade(probe, stdin(['', 'False False 0']))).details).toMatchObject({ verdict: 'accepted' });
      }
    });
  });

  describe('paranoid mode and several engines', () => {
    it('runs every test in a fresh container', async () => {
      const paranoid = createPythonGrader({ image: TEST_SANDBOX_IMAGE, paranoid: true, limits: { timeoutMs: 2_000 } });
      try {
        const code = 'import os\nprint(os.path.exists("/tmp/mark"))\nopen("/tmp/mark", "w").write("1")';
        expect(
          (await paranoid.grade({ output: fenced(code), reference: stdin(['', 'False'], ['', 'False']) })).pass,
        ).toBe(true);
        const fn =
          'class Solution:\n    n = 0\n    def f(self, x):\n        Solution.n += x\n        return Solution.n';
        expect(
          (await paranoid.grade({ output: fenced(fn), reference: functional('f', ['1', '1'], ['1', '1']) })).details,
        ).toMatchObject({ verdict: 'accepted' });
      } finally {
        await paranoid.close();
      }
    });

    it('spreads the pool over a list of engines', async () => {
      const created: number[] = [0, 0];
      const counting = (index: number): DockerEngine => {
        const engine = createDockerEngine(index === 0 ? { socketPath: '/var/run/docker.sock' } : undefined);
        return new Proxy(engine, {
          get(target, property, receiver) {
            if (property === 'createContainer') {
              return (options: Record<string, unknown>) => {
                created[index] = (created[index] ?? 0) + 1;
                return target.createContainer(options);
              };
            }
            return Reflect.get(target, property, receiver);
          },
        });
      };
      const multi = createPythonGrader({ image: TEST_SANDBOX_IMAGE, engines: [counting(0), counting(1)], poolSize: 2, spares: 0 });
      try {
        expect((await multi.grade({ output: fenced('print(7)'), reference: stdin(['', '7']) })).pass).toBe(true);
        expect(created).toEqual([1, 1]);
      } finally {
        await multi.close();
      }
    });
  });

  describe('broken environments throw SANDBOX_UNAVAILABLE', () => {
    it('an unreachable engine', async () => {
      const broken = createPythonGrader({
        image: TEST_SANDBOX_IMAGE,
        engines: [{ socketPath: '/nonexistent/docker.sock' }],
      });
      await expect(broken.grade({ output: fenced('print(1)'), reference: stdin(['', '1']) })).rejects.toMatchObject({
        code: 'SANDBOX_UNAVAILABLE',
      });
    });

    it('DOCKER_HOST is honoured when no engines are given', async () => {
      const previous = process.env.DOCKER_HOST;
      process.env.DOCKER_HOST = 'unix:///nonexistent/aipo-docker.sock';
      try {
        const remote = createPythonGrader({ image: TEST_SANDBOX_IMAGE });
        await expect(remote.grade({ output: fenced('print(1)'), reference: stdin(['', '1']) })).rejects.toMatchObject({
          code: 'SANDBOX_UNAVAILABLE',
          message: expect.stringContaining('aipo-docker.sock'),
        });
      } finally {
        if (previous === undefined) delete process.env.DOCKER_HOST;
        else process.env.DOCKER_HOST = previous;
      }
    });

    it('a missing image names the build command', async () => {
      const broken = createPythonGrader({ image: 'aipo-sandbox-python:does-not-exist' });
      await expect(broken.grade({ output: fenced('print(1)'), reference: stdin(['', '1']) })).rejects.toThrow(
        /build-sandbox-image/,
      );
    });
  });

  describe('orphan sweep', () => {
    it('removes labelled containers of dead processes and keeps those of live ones', async () => {
      const engine = createDockerEngine();
      const limits = resolveSandboxLimits();
      const ours = await SandboxContainer.start({ engine, image: TEST_SANDBOX_IMAGE, limits });
      const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
        encoding: 'utf8',
      }).stdout;
      const orphan = await engine.createContainer({
        Image: TEST_SANDBOX_IMAGE,
        Cmd: ['true'],
        Labels: {
          [SANDBOX_LABEL]: 'python',
          'aipo.sandbox.host': (await import('node:os')).hostname(),
          'aipo.sandbox.pid': deadPid,
        },
      });
      try {
        expect(await sweepOrphanContainers(engine)).toBeGreaterThanOrEqual(1);
        const left = await engine.listContainers({ all: true, filters: { label: [SANDBOX_LABEL] } });
        const ids = left.map((container) => container.Id);
        expect(ids).not.toContain(orphan.id);
        expect(ids).toContain(ours.container.id);
      } finally {
        await ours.destroy();
        await orphan.remove({ force: true }).catch(() => undefined);
      }
    });
  });
});

describe.skipIf(skip !== undefined)('container recycling (by container identity)', () => {
  const reference = stdin(['\n', 'expected\n']);
  // every program's result names the container that ran it (details.sandbox.container, its hostname)
  const run = async (grader: PythonGrader, code: string) => {
    const result = await grader.grade({ output: fenced(code), reference });
    return { verdict: result.details.verdict, ...(result.details.sandbox as SandboxReport) };
  };
  const create = (options: PythonGraderOptions = {}) =>
    createPythonGrader({ image: TEST_SANDBOX_IMAGE, poolSize: 1, limits: { timeoutMs: 2_000 }, ...options });

  it('the container id is the hostname the program sees', async () => {
    const grader = create();
    try {
      const result = await grader.grade({ output: fenced('import socket\nprint(socket.gethostname())'), reference });
      const sandbox = result.details.sandbox as SandboxReport;
      expect((result.details.failingTest as { actual: string }).actual.trim()).toBe(sandbox.container);
    } finally {
      await grader.close();
    }
  });

  it("default 'unclean': a wrong answer or an exception that ended cleanly keeps the container", async () => {
    const grader = create();
    try {
      const first = await run(grader, 'print("wrong")');
      expect(first).toMatchObject({ verdict: 'wrong_answer', recycled: false, cleanup: { processes: 0, files: 0, ipc: 0, residue: 0 } });
      const second = await run(grader, 'raise ValueError("boom")');
      expect(second).toMatchObject({ verdict: 'runtime_error', recycled: false, container: first.container });
      // files in the work dir (cwd, TMPDIR) are the program's scratch space: wiped, not a leftover
      const scratch = await run(grader, 'import tempfile\nopen("a.txt", "w").write("x")\ntempfile.mkstemp()\nprint("wrong")');
      expect(scratch).toMatchObject({ recycled: false, container: first.container });
      expect((await run(grader, 'import os\nprint(os.listdir("."))')).container).toBe(first.container);
    } finally {
      await grader.close();
    }
  });

  // each trigger: the program's result says recycled with the cause, the next program runs elsewhere
  const triggers: Array<[string, string, string, string]> = [
    ['a run killed at the time limit', 'while True:\n    pass', 'time_limit', 'killed'],
    ['a run killed at the output cap', 'import sys\nwhile True:\n    sys.stdout.write("x" * 65536)', 'output_limit', 'killed'],
    [
      'a process that escaped the program (setsid)',
      // the parent waits until the child has left its process group: exiting before the setsid let the
      // runner kill the child with the group (correctly: it had not escaped yet), a race seen in CI
      'import os\nr, w = os.pipe()\nif os.fork() == 0:\n    os.setsid()\n    os.write(w, b"x")\n    import time\n    time.sleep(60)\nos.read(r, 1)\nprint("wrong")',
      'wrong_answer',
      'leftovers',
    ],
    ['a file outside the work dir', 'open("/dev/shm/left", "w").write("x")\nprint("expected")', 'accepted', 'leftovers'],
    [
      'a SysV shared memory segment',
      'import ctypes\nctypes.CDLL(None).shmget(1234, 4096, 0o1600)\nprint("wrong")',
      'wrong_answer',
      'leftovers',
    ],
  ];
  it.each(triggers)('recycles after %s', async (_name, code, verdict, cause) => {
    const grader = create();
    try {
      const before = await run(grader, 'print("wrong")');
      const trigger = await run(grader, code);
      expect(trigger).toMatchObject({ verdict, container: before.container, recycled: true, cause });
      const after = await run(grader, 'print("expected")');
      expect(after).toMatchObject({ verdict: 'accepted', recycled: false });
      expect(after.container).not.toBe(before.container);
    } finally {
      await grader.close();
    }
  }, 60_000);

  it('recycles a container that died under a program, and one past maxJobsPerContainer', async () => {
    const grader = create({ limits: { timeoutMs: 1_000 } });
    const counted = create({ maxJobsPerContainer: 2 });
    try {
      const first = await run(grader, 'print("wrong")');
      // the container dies under the program (killed from outside, like an engine restart)
      const engine = createDockerEngine();
      const lost = grader.grade({ output: fenced('import time\ntime.sleep(30)'), reference });
      await until(() => grader.stats().idle === 0);
      await engine.getContainer(first.container as string).kill({ signal: 'SIGKILL' });
      const result = await lost;
      expect(result.details.sandbox).toMatchObject({ container: first.container, recycled: true, cause: 'lost' });
      expect((await run(grader, 'print("x")')).container).not.toBe(first.container);

      const a = await run(counted, 'print("expected")');
      const b = await run(counted, 'print("expected")');
      expect(a).toMatchObject({ recycled: false });
      expect(b).toMatchObject({ container: a.container, recycled: true, cause: 'max-jobs' });
      expect((await run(counted, 'print("expected")')).container).not.toBe(a.container);
    } finally {
      await grader.close();
      await counted.close();
    }
  }, 60_000);

  it("'any' recycles after every verdict but accepted", async () => {
    const grader = create({ recycleAfterFailure: 'any' });
    try {
      const first = await run(grader, 'print("wrong")');
      expect(first).toMatchObject({ verdict: 'wrong_answer', recycled: true, cause: 'failed' });
      const second = await run(grader, 'print("expected")');
      expect(second).toMatchObject({ verdict: 'accepted', recycled: false });
      expect(second.container).not.toBe(first.container);
      expect((await run(grader, 'print("expected")')).container).toBe(second.container);
    } finally {
      await grader.close();
    }
    expect(() => create({ recycleAfterFailure: 'killed' as never })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
  }, 60_000);

  it('a recycled container is replaced by a pre-warmed spare, and the spare is refilled in the background', async () => {
    const grader = create({ spares: 1 });
    try {
      await grader.warmUp();
      await until(() => grader.stats().spares === 1);
      const createdBefore = grader.stats().created;
      const trigger = await run(grader, 'while True:\n    pass');
      expect(trigger).toMatchObject({ recycled: true, cause: 'killed' });
      // swapped in at release: the spare is in the slot, no start was needed to serve the next program
      expect(grader.stats()).toMatchObject({ live: 1, idle: 1, spares: 0 });
      expect(grader.stats().created).toBe(createdBefore);
      const next = await run(grader, 'print("expected")');
      expect(next.container).not.toBe(trigger.container);
      await until(() => grader.stats().spares === 1);
      expect(grader.stats()).toMatchObject({ created: createdBefore + 1, retired: 1 });
    } finally {
      await grader.close();
    }
  }, 60_000);
});

/** Polls pool state (the tests assert states, never durations). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}
