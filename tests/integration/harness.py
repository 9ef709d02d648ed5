"""Integration-test plumbing: start a runner (scripts/run-qemu, scripts/run-bochs) with the
guest's COM1 on pipes, wait for what the guest prints, type commands, check the verdict."""
import os, re, signal, subprocess, threading, time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROMPT = "monovisor> "
TESTS = []


class TestFailure(Exception):
    pass


def test(group, name=None):
    """Registers a test function under a group (unit tests are a separate group)."""
    def deco(fn):
        TESTS.append((group, name or fn.__name__, fn))
        return fn
    return deco


class Guest:
    """One emulator run. Output is accumulated; expect() searches from a cursor that moves
    past each match, so the same marker printed twice (e.g. after a reboot) is seen twice."""

    def __init__(self, runner, *args, timeout=120, log=None):
        self.log_path = log
        cmd = [os.path.join(REPO, "scripts", runner), "--timeout", str(timeout), *args]
        if log:
            cmd += ["--log", log]
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.buf = ""
        self.pos = 0
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            data = self.proc.stdout.read1(4096)
            if not data:
                return
            with self.lock:
                self.buf += data.decode("utf-8", "replace").replace("\r", "")

    def elapsed(self):
        return time.monotonic() - self.t0

    def expect(self, pattern, timeout=30):
        """Waits for a regex after the cursor; returns the match and moves the cursor."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            with self.lock:
                m = rx.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                    return m
            if time.monotonic() > end or (self.proc.poll() is not None and not self.reader.is_alive()):
                raise TestFailure(f"did not see /{pattern}/ within {timeout}s; output tail:\n"
                                  + self.tail())
            time.sleep(0.05)

    def output_since(self, start):
        with self.lock:
            return self.buf[start:]

    def tail(self, n=40):
        with self.lock:
            return "\n".join("    | " + l for l in self.buf.splitlines()[-n:])

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def command(self, line, timeout=30):
        """Types a shell command at the prompt and returns what it printed before the next one."""
        self.expect(re.escape(PROMPT) + r"$|" + re.escape(PROMPT), timeout)
        start = self.pos
        self.send(line + "\r")
        m = self.expect(re.escape(PROMPT), timeout)
        with self.lock:
            out = self.buf[start:m.start()]
        self.pos = m.start()            # leave the prompt for the next command
        return out

    def wait(self, timeout=60):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TestFailure(f"runner did not finish within {timeout}s; tail:\n" + self.tail())
        self.reader.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()


def check(cond, msg, guest=None):
    if not cond:
        raise TestFailure(msg + ("\noutput tail:\n" + guest.tail() if guest else ""))


LOGDIR = os.path.join(REPO, "build", "test-logs")
BANNER = r"monovisor \S+ \(build [0-9a-f]{16}\) starting"


def log_path(name):
    os.makedirs(LOGDIR, exist_ok=True)
    return os.path.join(LOGDIR, name + ".log")


def boot_to_prompt(g, loader_rx, *markers, timeout=90):
    """Waits for a complete boot: banner, loader, the given markers in order, the prompt.
    Prints the time from runner start to the prompt (the boot-path timing)."""
    g.expect(BANNER, timeout)
    g.expect(r"loader: " + loader_rx)
    found = [g.expect(m) for m in markers]
    g.expect(r"monovisor: ready")
    g.expect(re.escape(PROMPT))
    print(f"  boot to prompt: {g.elapsed():.2f}s", flush=True)
    g.pos -= len(PROMPT)            # command() starts by waiting for this prompt
    return found


def halt(g):
    g.send("halt\r")
    g.expect(r"monovisor: halted")
    rc = g.wait(30)
    check(rc == 0, f"runner verdict {rc}, expected 0 after halt", g)
