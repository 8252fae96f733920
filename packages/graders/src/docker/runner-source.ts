// The Python runner that is PID 1 of every warm sandbox container (passed with `python3 -I -c`).
// Kept as a string so it ships inside the bundle; it needs nothing from the image but python3.
export const RUNNER_SOURCE = String.raw`# aipo sandbox runner: PID 1 of a warm sandbox container. Reads length-prefixed JSON jobs on stdin,
# forks one process per program run (LiveCodeBench prelude pre-imported, so a run starts in ~1 ms),
# applies rlimits, supervises it with a wall-clock deadline and an output cap, then kills every other
# process in the container and wipes the writable dirs, so programs cannot see each other.
import ast, builtins, ctypes, gc, io, json, os, resource, select, shutil, signal, struct, sys, time, traceback

# LiveCodeBench's import_string (lcb_runner/evaluation/testing_util.py), prepended to every program.
PRELUDE = (
    "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\n"
    "from heapq import *\nfrom bisect import *\nfrom copy import *\nfrom math import *\nfrom random import *\n"
    "from statistics import *\nfrom itertools import *\nfrom functools import *\nfrom operator import *\n"
    "from io import *\nfrom sys import *\nfrom json import *\nfrom builtins import *\nfrom typing import *\n"
    "import string\nimport re\nimport datetime\nimport collections\nimport heapq\nimport bisect\nimport copy\n"
    "import math\nimport random\nimport statistics\nimport itertools\nimport functools\nimport operator\n"
    "import io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n"
)
# the prelude's globals, built once: a forked program starts from a copy instead of re-running it
PRELUDE_SCOPE = {"__name__": "__main__", "__builtins__": builtins}
exec(PRELUDE, PRELUDE_SCOPE)
sys.setrecursionlimit(1000)
# lcb_runner/evaluation/compute_code_generation_metrics.py sets this for parity on Python >= 3.11
sys.set_int_max_str_digits(50000)
# not dumpable: programs run as the same uid and must not read our memory or /proc/1/fd (forged frames)
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)

WORK = "/tmp/w"
# everything a program can write: /tmp (the work dir WORK lives there), /dev/shm, POSIX queues
WIPE = ("/tmp", "/dev/shm", "/dev/mqueue")
ME = os.getpid()
STDERR_KEEP = 8192


def read_exact(fd, size):
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def recv(fd):
    (size,) = struct.unpack(">I", read_exact(fd, 4))
    return json.loads(read_exact(fd, size))


def send(fd, message):
    data = json.dumps(message).encode()
    data = struct.pack(">I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def janitor():
    """After every program: kill everything but us (a job runs alone, so anything alive escaped the
    program's process group), wipe the writable dirs and IPC, then check that the container is back
    to its start state. Returns what had to be cleaned: escaped processes, entries outside the work
    dir, IPC objects, and anything still there after the cleanup (residue); any of these makes the
    host recycle the container. The program's own work dir (its cwd and TMPDIR) is wiped silently."""
    report = {"processes": 0, "files": 0, "ipc": 0, "residue": 0}
    alive = []
    for attempt in range(200):
        alive = other_processes()
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if attempt == 0:
            report["processes"] = len(alive)
        reap()
        if not alive:
            break
        time.sleep(0.002)
    for root in WIPE:
        try:
            entries = os.listdir(root)
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(root, entry)
            if path != WORK:
                report["files"] += 1
            remove_path(path)
    try:
        os.mkdir(WORK, 0o700)
    except OSError:
        report["residue"] += 1
    report["ipc"] = remove_sysv_ipc()
    # the post-run check: nothing may be left anywhere a program can write
    report["residue"] += len(other_processes()) + len(safe_listdir(WORK)) + sysv_ipc_count()
    report["residue"] += sum(1 for root in WIPE for entry in safe_listdir(root) if os.path.join(root, entry) != WORK)
    return report


def other_processes():
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (ME, 1):
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in (b"Z", b"X"):
            found.append(int(name))
    return found


def safe_listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


def remove_path(path):
    """Remove a file or tree, giving ourselves back the permissions a program took away (same uid)."""
    def retry(function, target, _):
        for fixed in (os.path.dirname(target), target):
            try:
                os.chmod(fixed, 0o700)
            except OSError:
                pass
        try:
            function(target)
        except OSError:
            pass
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            shutil.rmtree(path, onerror=retry)
        else:
            os.unlink(path)
    except OSError:
        pass


def sysv_ipc_count():
    count = 0
    for table in ("shm", "sem", "msg"):
        try:
            with open("/proc/sysvipc/" + table) as handle:
                count += len(handle.read().splitlines()[1:])
        except OSError:
            pass
    return count


def cleanup_fields(report):
    return {"leftovers": sum(report.values()), "cleanup": report}


def remove_sysv_ipc():
    """SysV shared memory, semaphores and queues outlive their creator: remove them all."""
    libc = ctypes.CDLL(None, use_errno=True)
    removed = 0
    for table, remove in (("shm", libc.shmctl), ("sem", libc.semctl), ("msg", libc.msgctl)):
        try:
            with open("/proc/sysvipc/" + table) as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            ipc_id = int(row.split()[1])
            # IPC_RMID = 0; semctl takes a semaphore number before the command
            result = remove(ipc_id, 0, 0, None) if table == "sem" else remove(ipc_id, 0, None)
            removed += result == 0
    return removed


def oom_kills():
    """The memory cgroup's OOM-kill counter (v2 memory.events, v1 memory.oom_control), or -1."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        except OSError:
            continue
    return -1


def limit(resource_id, value):
    try:
        resource.setrlimit(resource_id, (value, value))
    except (ValueError, OSError):
        pass


def child_setup(job, fds):
    os.setsid()
    for target, source in enumerate(fds):
        os.dup2(source, target)
    os.closerange(len(fds), 1024)
    limit(resource.RLIMIT_AS, int(job["memory"]))
    limit(resource.RLIMIT_CPU, int(job["cpu"]))
    limit(resource.RLIMIT_FSIZE, int(job["fsize"]))
    limit(resource.RLIMIT_CORE, 0)
    os.chdir(WORK)
    # tempfile and friends write into the work dir, which is wiped without counting as a leftover
    os.environ["TMPDIR"] = WORK
    sys.setrecursionlimit(1000)


def compile_program(code, scope):
    scope.update(PRELUDE_SCOPE)
    sys.setrecursionlimit(50000)
    try:
        return compile(code, "<solution>", "exec")
    except MemoryError:
        os._exit(4)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(3)


def finish(status):
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        pass
    os._exit(status)


def run_program(job):
    """stdin mode (LiveCodeBench grade_stdio: SystemExit swallowed) or script mode (asserts)."""
    scope = {"__name__": "__main__", "__builtins__": builtins}
    token = job.pop("token", None)
    program = compile_program(job["code"], scope)
    try:
        exec(program, scope)
    except SystemExit:
        if job["mode"] == "script":
            traceback.print_exc()
            finish(1)
    except MemoryError:
        finish(4)
    except BaseException:
        traceback.print_exc()
        finish(1)
    if token is not None:
        os.write(4, token.encode())
    finish(0)


def wrap_like_lcb(code):
    """LiveCodeBench's clean_if_name + make_function (testing_util.py): inline a final
    "if __name__ == '__main__':" block, hoist top-level imports, and put every other statement into
    "def wrapped_function():", which each test calls. So module-level names are locals of that
    function: a "global x" pattern fails exactly as it does there. Unparsable code is left as is
    (it then fails to compile, as there)."""
    try:
        tree = ast.parse(code)
        last = tree.body[-1] if tree.body else None
        if isinstance(last, ast.If) and ast.unparse(last.test).strip() == "__name__ == '__main__'":
            code = ast.unparse(tree.body[:-1]) + "\n" + ast.unparse(last.body)
    except Exception:
        pass
    try:
        tree = ast.parse(code)
        imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        others = [node for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))]
        arguments = ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])
        function = ast.FunctionDef(name="wrapped_function", args=arguments, body=others, decorator_list=[], lineno=-1)
        return ast.unparse(imports) + "\n" + ast.unparse(function)
    except Exception:
        return code


def serve_tests(job):
    """stdin tests in one process, as LiveCodeBench's grade_stdio runs them: the module (prelude,
    imports, wrapped_function) is executed once, then wrapped_function() is called once per test with
    that test's input on fd 0 (a memfd, so input(), sys.stdin.buffer and open(0) all work) and its
    output on fd 1; SystemExit ends only the current test."""
    base = {"__name__": "__main__", "__builtins__": builtins}
    program = compile_program(wrap_like_lcb(job["code"]), base)
    try:
        exec(program, base)
    except MemoryError:
        finish(4)
    except BaseException:
        traceback.print_exc()
        finish(1)
    entry = base.get("wrapped_function")
    if entry is None:
        sys.stderr.write("the program defines no code to run\n")
        finish(1)
    stdout = sys.stdout
    while True:
        try:
            request = recv(3)
        except EOFError:
            finish(0)
        data = request["input"].encode()
        memfd = os.memfd_create("stdin")
        view, sent = memoryview(data), 0
        while sent < len(data):
            sent += os.write(memfd, view[sent:])
        os.lseek(memfd, 0, 0)
        # the last test may have closed fd 0 (open(0) closes it when collected): then memfd is 0
        if memfd != 0:
            os.dup2(memfd, 0)
            os.close(memfd)
        sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "rb", closefd=False)), encoding="utf-8")
        sys.stdout = stdout
        sys.setrecursionlimit(50000)
        status = 0
        try:
            entry()
        except SystemExit:
            pass
        except MemoryError:
            status = 4
        except BaseException:
            traceback.print_exc()
            status = 1
        for stream in (sys.stdout, stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        write_frame(4, {"exit": status})


def encode(value, depth=0):
    """A tagged JSON form that keeps what Python's == distinguishes; see code/python-value.ts."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {"i": int.__repr__(value)}
    if isinstance(value, float):
        return {"f": float.__repr__(value)}
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, list):
        return [encode(item, depth + 1) for item in list.__iter__(value)]
    if isinstance(value, tuple):
        return {"t": [encode(item, depth + 1) for item in tuple.__iter__(value)]}
    if isinstance(value, dict):
        return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in dict.items(value)]}
    return {"o": type(value).__name__}


def write_frame(fd, message):
    data = json.dumps(message).encode()
    data = struct.pack(">I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


def serve_calls(job):
    """Call mode (LiveCodeBench grade_call_based): one Solution() reused for every test."""
    scope = {"__name__": "__main__", "__builtins__": builtins}
    program = compile_program(job["code"], scope)
    try:
        exec(program, scope)
        if "class Solution" in job["code"]:
            function = getattr(scope["Solution"](), job["fn"])
        else:
            function = scope[job["fn"]]
    except MemoryError:
        finish(4)
    except BaseException:
        traceback.print_exc()
        finish(1)
    write_frame(4, {"ready": True})
    while True:
        try:
            request = recv(3)
        except EOFError:
            finish(0)
        try:
            arguments = [json.loads(line) for line in request["args"].split("\n")]
            result = function(*arguments)
            if isinstance(result, tuple):
                result = list(result)
            write_frame(4, {"value": json.dumps(encode(result))})
        except MemoryError:
            finish(4)
        except BaseException:
            write_frame(4, {"error": traceback.format_exc()[-STDERR_KEEP:]})


class Run:
    """A forked program and its pipes, supervised from the runner."""

    def __init__(self, job, target):
        pipes = [os.pipe() for _ in range(5)]
        self.pid = os.fork()
        if self.pid == 0:
            try:
                stdin_r, stdout_w, stderr_w = pipes[0][0], pipes[1][1], pipes[2][1]
                child_setup(job, [stdin_r, stdout_w, stderr_w, pipes[3][0], pipes[4][1]])
                target(job)
            finally:
                os._exit(70)
        os.close(pipes[0][0]); os.close(pipes[1][1]); os.close(pipes[2][1]); os.close(pipes[3][0]); os.close(pipes[4][1])
        self.stdin, self.stdout, self.stderr, self.control, self.results = (
            pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][1], pipes[4][0])
        for fd in (self.stdin, self.stdout, self.stderr, self.results):
            os.set_blocking(fd, False)
        self.pidfd = os.pidfd_open(self.pid)
        self.ooms = oom_kills()
        self.out, self.err, self.frames = bytearray(), bytearray(), bytearray()
        self.out_total = 0
        self.exit = None
        self.pending = memoryview(b"")
        self.sent = 0
        # where pending bytes go: the program's stdin (closed when written) or the control pipe
        self.feed_fd, self.feed_closes = self.stdin, True

    def feed_control(self, message):
        """Queue one frame for the process's control pipe and start a fresh output capture."""
        data = json.dumps(message).encode()
        self.pending, self.sent = memoryview(struct.pack(">I", len(data)) + data), 0
        self.feed_fd, self.feed_closes = self.control, False
        del self.out[:], self.err[:]

    def close_fds(self):
        for fd in (self.stdin, self.stdout, self.stderr, self.control, self.results, self.pidfd):
            try:
                os.close(fd)
            except OSError:
                pass

    def kill(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass
        self.wait()

    def wait(self):
        if self.exit is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.exit = status
            except ChildProcessError:
                self.exit = 0

    def drain(self, fd, keep, cap):
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                return False
            except OSError:
                return True
            if not chunk:
                return True
            if fd == self.stdout:
                self.out_total += len(chunk)
            keep += chunk
            if fd == self.stderr and len(keep) > 2 * STDERR_KEEP:
                del keep[:-STDERR_KEEP]
            if cap is not None and len(keep) > cap:
                return None

    def supervise(self, deadline, cap, until_frame):
        """Run until exit (or a result frame), the deadline, or output past the cap."""
        open_fds = {self.stdout: self.out, self.stderr: self.err, self.results: self.frames}
        while True:
            if until_frame and len(self.frames) >= 4:
                (size,) = struct.unpack(">I", bytes(self.frames[:4]))
                if size > cap:
                    self.kill()
                    return "output_limit"
                if len(self.frames) >= 4 + size:
                    return "frame"
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                return "timeout"
            writers = [self.feed_fd] if self.feed_fd >= 0 and self.sent < len(self.pending) else []
            readable, writable, _ = select.select(list(open_fds) + [self.pidfd], writers, [], left)
            if writable:
                try:
                    # a memoryview: re-slicing the bytes each write made a 50 MB input quadratic
                    self.sent += os.write(self.feed_fd, self.pending[self.sent : self.sent + (1 << 16)])
                except BlockingIOError:
                    pass
                except OSError:
                    self.sent = len(self.pending)
                if self.sent >= len(self.pending) and self.feed_closes:
                    os.close(self.feed_fd)
                    self.feed_fd = self.stdin = -1
            for fd in readable:
                if fd == self.pidfd:
                    continue
                done = self.drain(fd, open_fds[fd], cap if fd == self.stdout else (cap + 4 if fd == self.results else None))
                if done is None:
                    self.kill()
                    return "output_limit"
                if done:
                    del open_fds[fd]
            if self.pidfd in readable:
                for fd in list(open_fds):
                    if self.drain(fd, open_fds[fd], None if fd == self.stderr else cap + 4) is None:
                        self.kill()
                        return "output_limit"
                if until_frame and len(self.frames) >= 4:
                    continue
                self.wait()
                return "exited"

    def take_frame(self):
        (size,) = struct.unpack(">I", bytes(self.frames[:4]))
        body = bytes(self.frames[4 : 4 + size])
        del self.frames[: 4 + size]
        return json.loads(body)

    def report(self, outcome):
        message = {"status": outcome, "stderr": self.err[-STDERR_KEEP:].decode("utf-8", "replace")}
        if outcome == "exited" and self.exit is not None:
            if os.WIFSIGNALED(self.exit):
                message["status"] = "signaled"
                message["signal"] = os.WTERMSIG(self.exit)
                # exit 137 means any SIGKILL; only the cgroup's own counter says it was the OOM killer
                message["oomKilled"] = oom_kills() > self.ooms
            else:
                message["exit"] = os.WEXITSTATUS(self.exit)
        return message


session = None


def handle(job):
    op = job["op"]
    deadline = time.monotonic() + float(job.get("timeout", 6))
    cap = int(job.get("output", 8 << 20))
    if op == "exec":
        return execute(job, deadline, cap)
    if op == "batch":
        run_batch(job, cap)
        return None
    if op == "calls":
        run_calls(job, cap)
        return None
    if op == "stop":
        # a stop that arrived after its batch had already ended: nothing to stop
        return None
    return handle_session(job, deadline, cap)


def stop_requested():
    if not select.select([0], [], [], 0)[0]:
        return False
    return recv(0).get("op") == "stop"


def batch_gate(index, budget_end, timeout):
    """Before each test of a batch: a stop from the host or the sample's global deadline ends it."""
    if index and stop_requested():
        return {"status": "stopped", "index": index}, 0
    left = min(float(timeout), budget_end - time.monotonic())
    if left <= 0:
        return {"status": "timeout", "index": index, "budget": True}, 0
    return None, left


def run_batch(job, cap):
    """The stdin tests of one program back to back in one forked process, one reply each, with no
    round trip in between. The host compares outputs (they never enter the sandbox) and sends a stop
    at the first wrong answer; a run that fails by itself ends the batch here. The "budget" is
    LiveCodeBench's global deadline for the sample."""
    inputs = job.pop("inputs")
    budget = float(job["budget"])
    budget_end = time.monotonic() + budget
    job["cpu"] = int(budget) + 1
    # each input is written into a memfd under the program's RLIMIT_FSIZE: let the largest one fit
    # (the tmpfs size still bounds what the program can store)
    job["fsize"] = max(int(job["fsize"]), max(len(text.encode()) for text in inputs) + 1)
    run = None
    for index, text in enumerate(inputs):
        reply, left = batch_gate(index, budget_end, job["timeout"])
        if reply is not None:
            break
        if run is None:
            run = Run(job, serve_tests)
            os.close(run.stdin)
            run.stdin = -1
        run.feed_control({"input": text})
        started = time.monotonic()
        outcome = run.supervise(started + left, cap, True)
        if outcome == "frame" and run.drain(run.stdout, run.out, cap) is None:
            run.kill()
            outcome = "output_limit"
        if outcome == "frame":
            reply = {"status": "exited", "exit": run.take_frame()["exit"], "stdout": run.out.decode("utf-8", "replace")}
            reply["stderr"] = run.err[-STDERR_KEEP:].decode("utf-8", "replace")
        else:
            # killed at a limit, or the process ended (os._exit, a signal): the next test forks anew
            reply = run.report(outcome)
            shown = run.out if outcome == "exited" else run.out[:4096]
            reply["stdout"] = shown.decode("utf-8", "replace")
            run.kill()
            run.close_fds()
            run = None
        reply["elapsedMs"] = round((time.monotonic() - started) * 1000, 3)
        reply["index"] = index
        if index == len(inputs) - 1 or reply["status"] != "exited" or reply.get("exit", 0) != 0:
            break
        send(1, reply)
    if run is not None:
        run.kill()
        run.close_fds()
    reply["final"] = True
    reply.update(cleanup_fields(janitor()))
    send(1, reply)


def run_calls(job, cap):
    """The functional tests of an open session back to back, one reply each (see run_batch)."""
    global session
    calls = job.pop("calls")
    budget_end = time.monotonic() + float(job["budget"])
    for index, args in enumerate(calls):
        run = session
        if run is None:
            reply = {"status": "no_session", "index": index}
            break
        reply, left = batch_gate(index, budget_end, job["timeout"])
        if reply is not None:
            break
        run.feed_control({"args": args})
        started = time.monotonic()
        outcome = run.supervise(started + left, cap, True)
        if outcome == "frame":
            frame = run.take_frame()
            if "value" in frame:
                reply = {"status": "returned", "value": frame["value"]}
            else:
                reply = {"status": "raised", "stderr": frame.get("error", "")}
        else:
            reply = run.report(outcome)
            run.kill()
            run.close_fds()
            session = None
            reply.update(cleanup_fields(janitor()))
        reply["elapsedMs"] = round((time.monotonic() - started) * 1000, 3)
        reply["index"] = index
        if index == len(calls) - 1 or reply["status"] != "returned":
            break
        send(1, reply)
    reply["final"] = True
    send(1, reply)


def execute(job, deadline, cap):
    token = os.urandom(16).hex() if job["mode"] == "script" else None
    if token:
        job["token"] = token
    run = Run(job, run_program)
    job.pop("token", None)
    run.pending = memoryview(job.get("input", "").encode())
    if not len(run.pending):
        os.close(run.stdin)
        run.stdin = run.feed_fd = -1
    started = time.monotonic()
    outcome = run.supervise(deadline, cap, False)
    reply = run.report(outcome)
    reply["elapsedMs"] = round((time.monotonic() - started) * 1000, 3)
    # a failed run's output is only shown in the report: send a prefix, not megabytes
    shown = run.out if outcome == "exited" else run.out[:4096]
    reply["stdout"] = shown.decode("utf-8", "replace")
    if token is not None:
        reply["completed"] = bytes(run.frames) == token.encode()
    run.kill()
    run.close_fds()
    reply.update(cleanup_fields(janitor()))
    return reply


def handle_session(job, deadline, cap):
    global session
    op = job["op"]
    if op == "open":
        run = Run(job, serve_calls)
        os.close(run.stdin)
        run.stdin = -1
        outcome = run.supervise(deadline, cap, True)
        if outcome == "frame":
            run.take_frame()
            session = run
            return {"status": "ready"}
        reply = run.report(outcome)
        run.kill()
        run.close_fds()
        reply.update(cleanup_fields(janitor()))
        return reply
    if op == "call":
        run = session
        if run is None:
            return {"status": "no_session"}
        data = json.dumps({"args": job["args"]}).encode()
        try:
            os.write(run.control, struct.pack(">I", len(data)))
            os.write(run.control, data)
        except OSError:
            pass
        started = time.monotonic()
        outcome = run.supervise(deadline, cap, True)
        if outcome == "frame":
            frame = run.take_frame()
            reply = {"status": "returned", "value": frame["value"]} if "value" in frame else {"status": "raised", "stderr": frame.get("error", "")}
            reply["elapsedMs"] = round((time.monotonic() - started) * 1000, 3)
            return reply
        reply = run.report(outcome)
        run.kill()
        run.close_fds()
        session = None
        reply.update(cleanup_fields(janitor()))
        return reply
    if op == "close":
        if session is not None:
            session.kill()
            session.close_fds()
            session = None
        return dict({"status": "closed"}, **cleanup_fields(janitor()))
    return {"status": "bad_request"}


def main():
    janitor()
    # move everything allocated so far out of the collector's reach: a collection in a forked child
    # would otherwise touch every object and copy the whole heap page by page (13-20 ms -> 3 ms a test)
    gc.collect()
    gc.freeze()
    send(1, {"status": "ready", "python": sys.version.split()[0]})
    while True:
        try:
            job = recv(0)
        except EOFError:
            os._exit(0)
        try:
            reply = handle(job)
        except Exception:
            reply = {"status": "runner_error", "final": True, "stderr": traceback.format_exc()[-STDERR_KEEP:]}
        if reply is not None:
            send(1, reply)


main()
`;
