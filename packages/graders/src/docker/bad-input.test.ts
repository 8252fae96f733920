// reliability.md §4.3: every Python bad input becomes a verdict within the deadline (vitest's per-test
// timeout is the bound), the host process survives, and nothing outside the sandbox changes.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CodeVerdict } from '../code/verdict';
import { dockerSkipReason, fenced, TEST_SANDBOX_IMAGE } from './docker-test-support';
import { createCanaryDir, snapshotTree } from './host-snapshot';
import { createPythonGrader } from './python-grader';

const skip = await dockerSkipReason();
const stdin = (input: string, output: string) => ({ tests: [{ input, output, testtype: 'stdin' as const }] });

interface Case {
  id: string;
  code: string;
  /** accepted verdicts (several where the kernel decides which limit trips first) */
  verdicts: CodeVerdict[];
  expected?: string;
  /** what the program printed, when the point is what it could see */
  actual?: string;
  /** the case is meant to hit the time limit: run it under the short limit */
  hitsTimeLimit?: boolean;
}

const CASES: Case[] = [
  {
    id: 'P1 fork bomb',
    code: 'import os\nwhile True:\n    os.fork()',
    hitsTimeLimit: true,
    verdicts: ['runtime_error', 'time_limit'],
  },
  {
    id: 'P1 shell fork bomb',
    code: 'import os\nos.system(":(){ :|:& };:")\nprint("done")',
    hitsTimeLimit: true,
    verdicts: ['time_limit', 'accepted', 'runtime_error'],
    expected: 'done',
  },
  {
    id: 'P2 os.system/posix.system/subprocess run unprivileged',
    code: [
      'import os, posix, subprocess',
      'uid = subprocess.run(["id", "-u"], capture_output=True, text=True).stdout.strip()',
      'caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]',
      'posix.system("true")',
      'print(uid, caps, os.system("exit 3") >> 8)',
    ].join('\n'),
    verdicts: ['accepted'],
    expected: '65534 0000000000000000 3',
  },
  {
    id: 'P2 os.execv replaces the program',
    code: 'import os\nos.execv("/bin/echo", ["echo", "replaced"])',
    verdicts: ['accepted'],
    expected: 'replaced',
  },
  {
    id: 'P2 pty.spawn',
    code: 'import pty\npty.spawn(["true"])\nprint("ok")',
    verdicts: ['accepted', 'runtime_error'],
    expected: 'ok',
  },
  {
    id: 'P3 metadata SSRF and outbound HTTP',
    code: [
      'import socket, urllib.request',
      'results = []',
      'for target in [("169.254.169.254", 80), ("1.1.1.1", 53), ("10.0.0.1", 80)]:',
      '    try:',
      '        socket.create_connection(target, timeout=1)',
      '        results.append("open")',
      '    except OSError:',
      '        results.append("blocked")',
      'try:',
      '    urllib.request.urlopen("http://example.com", timeout=1)',
      '    results.append("open")',
      'except Exception:',
      '    results.append("blocked")',
      'print(*results, [name for _, name in socket.if_nameindex()])',
    ].join('\n'),
    verdicts: ['accepted'],
    expected: "blocked blocked blocked blocked ['lo']",
  },
  {
    id: 'P3 uncaught network error',
    code: 'import socket\nsocket.create_connection(("8.8.8.8", 53), timeout=1)',
    verdicts: ['runtime_error'],
  },
  { id: 'P4 disk fill', code: 'open("beans", "w").write("I love beans\\n" * 2**24)', verdicts: ['runtime_error'] },
  { id: 'P5 write outside the tmpfs', code: 'open("/var/tmp/x", "w").write("x")', verdicts: ['runtime_error'] },
  { id: 'P5 write to /run/lock', code: 'open("/run/lock/x", "w").write("x")', verdicts: ['runtime_error'] },
  {
    id: 'P6 environment and PID 1 secrets',
    code: [
      'import os',
      'try:',
      '    open("/proc/1/environ").read()',
      '    leaked = "readable"',
      'except OSError:',
      '    leaked = "denied"',
      'print(leaked, "AIPO_TEST_SECRET" in os.environ, any("secret" in v for v in os.environ.values()))',
    ].join('\n'),
    verdicts: ['accepted'],
    expected: 'denied False False',
  },
  { id: 'P7 sleeping forever', code: 'import time\ntime.sleep(10**9)', hitsTimeLimit: true, verdicts: ['time_limit'] },
  {
    id: 'P8 kill the runner (PID 1)',
    code: 'import os\nos.kill(os.getppid(), 9)\nos.kill(1, 9)\nprint("alive")',
    verdicts: ['accepted'],
    expected: 'alive',
  },
  { id: 'P8 kill own process group', code: 'import os\nos.killpg(0, 9)', verdicts: ['runtime_error'] },
  { id: 'P9 runaway print loop', code: 'while True:\n    print("Piston is secure")', verdicts: ['output_limit'] },
  { id: 'P9 one 100 MB write', code: 'import sys\nsys.stdout.write("x" * 10**8)', verdicts: ['output_limit'] },
  {
    id: 'P12 os._exit(0) before printing',
    code: 'import os\nos._exit(0)\nprint(3)',
    verdicts: ['wrong_answer'],
    expected: '3',
  },
  {
    id: 'P13 forged runner frame on stdout',
    code: 'import sys, struct\nfake = b\'{"status": "exited", "exit": 0, "stdout": "3\\\\n"}\'\nsys.stdout.buffer.write(struct.pack(">I", len(fake)) + fake)',
    verdicts: ['wrong_answer'],
    expected: '3',
  },
  {
    id: 'P13 forged frame into the runner stream',
    code: 'import struct\nfake = b\'{"status": "exited", "exit": 0, "stdout": "3"}\'\nopen("/proc/1/fd/1", "wb").write(struct.pack(">I", len(fake)) + fake)',
    verdicts: ['runtime_error'],
    expected: '3',
  },
  {
    id: 'P15 SIGALRM ignored and exceptions swallowed',
    code: 'import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    try:\n        pass\n    except Exception:\n        pass',
    hitsTimeLimit: true,
    verdicts: ['time_limit'],
  },
  { id: 'P16 a list of 10**10', code: 'a = [0] * 10**10', verdicts: ['memory_limit'] },
  { id: 'P16 bytearray(10**10)', code: 'bytearray(10**10)', verdicts: ['memory_limit'] },
  {
    id: 'P16 growing until the limit',
    code: 'chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 2**20))',
    verdicts: ['memory_limit'],
  },
  {
    id: 'P17 10 000 threads',
    code: 'import threading, time\nfor _ in range(10000):\n    threading.Thread(target=time.sleep, args=(60,)).start()',
    verdicts: ['runtime_error', 'memory_limit'],
  },
  // Python 3.11 frames live on the heap, so the C-level recursion of repr() is what overflows the stack
  {
    id: 'P18 deep recursion segfault',
    code: 'import sys\nsys.setrecursionlimit(10**6)\nx = []\nfor _ in range(10**6):\n    x = [x]\nprint(repr(x))',
    verdicts: ['runtime_error'],
  },
  { id: 'P18 ctypes.string_at(0)', code: 'import ctypes\nctypes.string_at(0)', verdicts: ['runtime_error'] },
  { id: 'P19 printing 10**5000', code: 'print(10**5000)', verdicts: ['accepted'], expected: `1${'0'.repeat(5000)}` },
  {
    id: 'P20 setsid daemon outliving the program',
    code: 'import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        while True: pass\n    os._exit(0)\nprint("ok")',
    verdicts: ['accepted'],
    expected: 'ok',
  },
  {
    id: 'P21 overwrite the interpreter',
    code: 'import os\nopen(os.__file__, "a").write("x")',
    verdicts: ['runtime_error'],
  },
  { id: 'P21 overwrite /bin/sh', code: 'open("/bin/sh", "wb").write(b"x")', verdicts: ['runtime_error'] },
  {
    id: 'P22 hunting for expected outputs',
    code: [
      'import os',
      'found = "not found"',
      'for root, dirs, files in os.walk("/"):',
      '    dirs[:] = [d for d in dirs if os.path.join(root, d) not in ("/proc", "/sys", "/dev", "/usr")]',
      '    for name in files:',
      '        try:',
      '            if b"aipo-expected-7f3a" in open(os.path.join(root, name), "rb").read(1 << 20):',
      '                found = "found"',
      '        except OSError:',
      '            pass',
      'print(found)',
    ].join('\n'),
    verdicts: ['wrong_answer'],
    expected: 'aipo-expected-7f3a',
    actual: 'not found\n',
  },
  {
    id: 'P23 symlink to a host path',
    code: 'import os\nos.symlink("/etc/shadow", "/tmp/link")\nos.symlink("/", "link2")\nprint("ok")',
    verdicts: ['accepted'],
    expected: 'ok',
  },
  { id: 'P24 a 1 MB solution', code: `# ${'x'.repeat(1 << 20)}\nprint(1)`, verdicts: ['accepted'], expected: '1' },
  { id: 'P25 a module the image lacks', code: 'import numpy\nprint(numpy.zeros(3))', verdicts: ['runtime_error'] },
  {
    id: 'P14 __eq__ always true (call-based trick on stdout)',
    code: 'class X:\n    __eq__ = lambda self, other: True\nprint(X())',
    verdicts: ['wrong_answer'],
    expected: '3',
  },
];

describe.skipIf(skip !== undefined)('Python bad inputs (reliability.md §4.3)', () => {
  // a short limit for the cases that are meant to hit it, and LiveCodeBench's 6 s for the rest, so
  // a loaded machine cannot turn a crash or a memory error into a time limit
  const limits = { memoryBytes: 512 * 1024 ** 2 };
  const quick = createPythonGrader({ image: TEST_SANDBOX_IMAGE, poolSize: 1, limits: { ...limits, timeoutMs: 1_500 } });
  const grader = createPythonGrader({
    image: TEST_SANDBOX_IMAGE,
    poolSize: 2,
    limits: { ...limits, timeoutMs: 6_000 },
  });
  const canary = createCanaryDir();
  // only this package's sandbox code: other folders are edited by other people while tests run
  const ownSource = fileURLToPath(new URL('../code/', import.meta.url));
  let before: { canary: string[]; source: string[] };

  beforeAll(async () => {
    process.env.AIPO_TEST_SECRET = 'secret-value-that-must-not-leak';
    before = { canary: snapshotTree(canary), source: snapshotTree(ownSource) };
    await Promise.all([grader.warmUp(), quick.warmUp()]);
  });

  afterAll(async () => {
    await Promise.all([grader.close(), quick.close()]);
    rmSync(canary, { recursive: true, force: true });
    delete process.env.AIPO_TEST_SECRET;
  });

  it.each(CASES)(
    '$id',
    async ({ code, verdicts, expected, actual, hitsTimeLimit }) => {
      const result = await (hitsTimeLimit ? quick : grader).grade({
        output: fenced(code),
        reference: stdin('', expected ?? 'unreachable'),
      });
      expect(verdicts).toContain(result.details.verdict);
      if (actual !== undefined) expect(result.details.failingTest).toMatchObject({ actual });
    },
    30_000,
  );

  it('P14 call-based: an object whose __eq__ is always true is a wrong answer', async () => {
    const code =
      'class Solution:\n    def f(self, x):\n        class X:\n            __eq__ = lambda s, o: True\n            __hash__ = object.__hash__\n        return X()';
    const result = await grader.grade({
      output: fenced(code),
      reference: { fn_name: 'f', tests: [{ input: '1', output: '1', testtype: 'functional' }] },
    });
    expect(result.details).toMatchObject({ verdict: 'wrong_answer', failingTest: { actual: '<X>' } });
  });

  it('after all of that the host is intact, nothing outside changed, and grading still works', async () => {
    expect(snapshotTree(canary)).toEqual(before.canary);
    expect(snapshotTree(ownSource)).toEqual(before.source);
    const result = await grader.grade({
      output: fenced('print(sum(map(int, input().split())))'),
      reference: stdin('2 3\n', '5'),
    });
    expect(result.details.verdict).toBe('accepted');
  });
});
