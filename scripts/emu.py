"""emu.py -- console bridge and verdict logic shared by the emulator runners.

Every runner (scripts/run-bochs, scripts/run-qemu, ...) builds an emulator
command line and then hands it to this module, which:

  * starts the emulator in its own session / process group,
  * bridges the guest's serial port COM1 to the runner's stdin/stdout,
  * copies every guest serial byte to an optional log file (--log),
  * watches the serial output for verdict markers and stops the emulator,
  * makes sure no emulator process outlives the runner.

Python 3 standard library only; Linux (ptys, process groups, prctl).

How COM1 reaches us -- the ``serial`` argument of Runner:

  "stdio"      the emulator's own stdin/stdout pipes *are* COM1.
               QEMU: ``-serial stdio -display none -monitor none``.
               The emulator's stderr is passed through to ours.
  SerialPty()  a pseudo-terminal the runner creates before building the
               command line; the emulator opens ``pty.path`` itself
               (Bochs: ``com1: enabled=1, mode=term, dev=<pty.path>``).
               We keep both ends open, so the stream never hits EOF/EIO
               before the emulator has opened it or after it closed it.

Emulators that insist on a terminal for their own display (Bochs'
``display_library: term``) get ``display_tty=True``: their stdin, stdout and
stderr are attached to a separate, private pty that becomes their
controlling terminal; its output is drained and thrown away (or saved with
``display_log=``).  This works when the runner itself has no tty at all (CI).

Interactive use: if our stdin is a terminal (and we are in the foreground)
it is put into raw mode (restored on every exit path) and every key goes to
the guest -- including Ctrl-C -- except Ctrl-] which quits (exit 130).
If stdin is not a terminal (a test pipes commands in), its bytes are
forwarded to the guest as they arrive; EOF on stdin only stops the
forwarding, the run goes on until a verdict.  Input that arrives before the
kernel reads COM1 may be consumed by the bootloader (GRUB reads the serial
terminal too), so tests should wait for a prompt/marker or sleep first.

Verdict (judged from serial output, never from the emulator's exit code):

  line contains "monovisor: halted"           -> stop emulator, exit 0
  line contains "monovisor: PANIC" / "FATAL"  -> read PANIC_GRACE (1.5 s) more
                                                 (register dump), stop, exit 1
  line matches --until REGEX                  -> stop emulator, exit 0
  emulator exited on its own                  -> exit 3 (its status on stderr)
  --timeout SECONDS elapsed (default 120)     -> "<name>: timeout after N s"
                                                 + last 40 serial lines on
                                                 stderr, exit 124
  Ctrl-], SIGINT (KeyboardInterrupt)          -> stop emulator, exit 130
  SIGTERM / SIGHUP to the runner              -> stop emulator, exit 128+sig

Lines are matched after decoding as UTF-8 (bad bytes replaced) and removing
ANSI escape sequences and CR characters.  The incomplete last line is
matched too, so a marker or --until prompt without a trailing newline still
counts.  A marker that is the very last thing written before the guest
stops the emulator can still be lost inside the emulated UART; kernels
should wait for LSR.TEMT (bit 6) before shutting down.

Stopping: ``stop_signal`` (SIGTERM by default; run-bochs uses SIGHUP, which
Bochs' term display turns into a clean exit) goes to the emulator's whole
process group, then SIGKILL after ``stop_grace`` seconds, then a final
SIGKILL to the group for stragglers.  The emulator also gets
PR_SET_PDEATHSIG=SIGKILL, so it dies even if the runner is SIGKILLed.

Typical runner (this is what scripts/run-qemu should look like)::

    #!/usr/bin/env python3
    import argparse, os, sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import emu

    p = argparse.ArgumentParser(prog="run-qemu", description="...")
    p.add_argument("--iso", default=os.path.join(emu.REPO_ROOT, "build/monovisor.iso"))
    emu.add_common_args(p)                       # --timeout --log --until --quiet
    args = p.parse_args()
    cmd = ["qemu-system-x86_64", "-cdrom", args.iso, "-m", "512",
           "-display", "none", "-monitor", "none", "-serial", "stdio",
           "-no-reboot"]
    sys.exit(emu.run(cmd, args, name="run-qemu"))   # serial="stdio" default

and with a pty instead (what scripts/run-bochs does)::

    pty = emu.SerialPty()
    ... write pty.path into the emulator's config ...
    sys.exit(emu.run(cmd, args, name="run-bochs", serial=pty,
                     display_tty=True, stop_signal=signal.SIGHUP))
"""

import collections
import ctypes
import errno
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

__all__ = [
    "EXIT_HALTED", "EXIT_PANIC", "EXIT_EMU_EXITED", "EXIT_TIMEOUT",
    "EXIT_INTERRUPTED", "HALT_MARKER", "PANIC_MARKERS", "QUIT_KEY",
    "REPO_ROOT", "SerialPty", "Runner", "add_common_args", "run",
]

# Exit codes of a runner.
EXIT_HALTED = 0        # "monovisor: halted" seen, or --until matched
EXIT_PANIC = 1         # "monovisor: PANIC" / "monovisor: FATAL" seen
EXIT_EMU_EXITED = 3    # emulator ended (or could not start) without a verdict
EXIT_TIMEOUT = 124     # --timeout elapsed (same code as timeout(1))
EXIT_INTERRUPTED = 130  # Ctrl-] or SIGINT; SIGTERM/SIGHUP give 128+signum

HALT_MARKER = "monovisor: halted"
PANIC_MARKERS = ("monovisor: PANIC", "monovisor: FATAL")
QUIT_KEY = 0x1d        # Ctrl-]

DEFAULT_TIMEOUT = 120.0
PANIC_GRACE = 1.5      # seconds of output still collected after a PANIC line
TAIL_LINES = 40        # serial lines shown on stderr after a timeout

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_MAX_PARTIAL = 64 * 1024   # an "incomplete line" longer than this is cut


def add_common_args(parser, *, default_timeout=DEFAULT_TIMEOUT):
    """Add the options every runner shares to an argparse parser.

    --timeout SECONDS  give up after this long (default 120), exit 124
    --log FILE         copy all guest serial output (raw bytes) to FILE
    --until REGEX      exit 0 as soon as a serial line matches REGEX
                       (Python re.search syntax)
    --quiet, -q        do not echo guest serial output to stdout (it still
                       goes to --log and to the timeout tail) and do not
                       print the success verdict line

    Returns the parser.  Pass the parsed namespace to run().
    """
    g = parser.add_argument_group("console and verdict options (emu.py)")
    g.add_argument("--timeout", type=float, default=default_timeout,
                   metavar="SECONDS",
                   help="stop the emulator and exit 124 after SECONDS "
                        "(default %(default)g)")
    g.add_argument("--log", metavar="FILE",
                   help="copy all guest serial output to FILE")
    g.add_argument("--until", metavar="REGEX", type=_regex,
                   help="stop the emulator and exit 0 when a serial line "
                        "matches REGEX")
    g.add_argument("--quiet", "-q", action="store_true",
                   help="do not echo guest serial output to stdout")
    return parser


def _regex(text):
    try:
        return re.compile(text)
    except re.error as e:
        import argparse
        raise argparse.ArgumentTypeError("bad regex %r: %s" % (text, e))


def run(cmd, args, *, name, **kwargs):
    """Run ``cmd`` with the options parsed by add_common_args(); return the
    exit code.  ``kwargs`` go to Runner (serial=, display_tty=, env=, ...)."""
    return Runner(cmd, name=name, timeout=args.timeout, log=args.log,
                  until=args.until, quiet=args.quiet, **kwargs).run()


def _set_nonblock(fd):
    fl = fcntl.fcntl(fd, fcntl.F_GETFL)
    fcntl.fcntl(fd, fcntl.F_SETFL, fl | os.O_NONBLOCK)


def _make_raw(fd):
    """Raw mode on a pty end: no echo, no line editing, no CR/NL mangling,
    no signals, 8 bit clean."""
    a = termios.tcgetattr(fd)
    a[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
              | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON
              | termios.IXOFF)
    a[1] &= ~termios.OPOST
    a[2] &= ~(termios.CSIZE | termios.PARENB)
    a[2] |= termios.CS8
    a[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG
              | termios.IEXTEN)
    a[6][termios.VMIN] = 1
    a[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, a)


class SerialPty:
    """A raw pseudo-terminal pair standing in for a serial line.

    ``path`` (e.g. "/dev/pts/7") is what the emulator opens as its serial
    device; the runner talks through ``master_fd``.  The slave end stays
    open here as well, so reading the master never fails with EIO while the
    emulator has not opened (or has already closed) the device.
    Give the object to Runner(serial=...); the Runner closes it.
    """

    def __init__(self):
        self.master_fd, self.slave_fd = os.openpty()
        self.path = os.ttyname(self.slave_fd)
        _make_raw(self.slave_fd)
        _set_nonblock(self.master_fd)

    def close(self):
        for attr in ("master_fd", "slave_fd"):
            fd = getattr(self, attr)
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
                setattr(self, attr, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Stop(Exception):
    """Raised by our signal handlers to leave the main loop."""

    def __init__(self, code, why):
        super().__init__(why)
        self.code = code
        self.why = why


def _libc_prctl():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


class Runner:
    """One emulator run with the console bridge and verdict logic.

    Runner(cmd, *, name, serial="stdio", timeout=120.0, log=None,
           until=None, quiet=False, display_tty=False, display_log=None,
           display_term="xterm", stderr=None, env=None, cwd=None,
           stop_signal=SIGTERM, stop_grace=2.0, panic_grace=1.5,
           tail_lines=40, on_finish=None,
           user_in=0, user_out=None, err=None).run() -> exit code

    cmd          argv list of the emulator.
    name         runner name used as prefix of our stderr messages.
    serial       "stdio" or a SerialPty (see module docstring).
    timeout      seconds; None or <= 0 means no timeout.
    log          path; all guest serial bytes are written there (truncated).
    until        regex string or compiled pattern (exit 0 on match).
    quiet        no echo of guest output on user_out, no success line.
    display_tty  give the emulator's stdin/stdout/stderr a private pty that
                 is its controlling terminal (drained, discarded).
    display_log  path: save what the emulator wrote to that pty.
    display_term TERM value for the emulator when display_tty is set.
    stderr       where the emulator's stderr goes when display_tty is off:
                 None = ours, or a file object / fd / path (opened "wb").
                 With serial=SerialPty and no display_tty, the emulator's
                 stdout goes there too and its stdin is /dev/null.
    env, cwd     passed to subprocess.Popen (env=None: ours).
    stop_signal  first signal sent to the process group when stopping.
    stop_grace   seconds to wait after stop_signal before SIGKILL.
    panic_grace  seconds of output collected after a PANIC/FATAL line.
    tail_lines   serial lines kept for the timeout report.
    on_finish    callable(runner, code) -> None, called after the emulator
                 has been stopped and before run() returns; may print extra
                 diagnostics (run-bochs prints Bochs' PANIC lines).
    user_in      fd of the user side input (default 0; None: no input).
    user_out     binary stream for guest output (default sys.stdout.buffer).
    err          text stream for our messages (default sys.stderr).

    After run(): .verdict (short word: "halted", "panic", "until",
    "emulator-exited", "timeout", "interrupted"), .emu_status (returncode
    of the emulator or None), .saw_output (bool), .tail (deque of lines).
    """

    def __init__(self, cmd, *, name, serial="stdio", timeout=DEFAULT_TIMEOUT,
                 log=None, until=None, quiet=False, display_tty=False,
                 display_log=None, display_term="xterm", stderr=None,
                 env=None, cwd=None, stop_signal=signal.SIGTERM,
                 stop_grace=2.0, panic_grace=PANIC_GRACE,
                 tail_lines=TAIL_LINES, on_finish=None, user_in=0,
                 user_out=None, err=None, screen_marker=None):
        if serial != "stdio" and not isinstance(serial, SerialPty):
            raise TypeError("serial must be 'stdio' or a SerialPty")
        self.cmd = list(cmd)
        self.name = name
        self.serial = serial
        self.timeout = timeout if timeout and timeout > 0 else None
        self.log_path = log
        if isinstance(until, str):
            until = re.compile(until)
        self.until = until
        self.quiet = quiet
        self.display_tty = display_tty
        self.display_log_path = display_log
        self.display_term = display_term
        self.stderr = stderr
        self.env = env
        self.cwd = cwd
        self.stop_signal = stop_signal
        self.stop_grace = stop_grace
        self.panic_grace = panic_grace
        self.on_finish = on_finish
        self.user_in = user_in
        self.user_out = user_out if user_out is not None else sys.stdout.buffer
        self.err = err if err is not None else sys.stderr
        if isinstance(screen_marker, (str, bytes)):
            screen_marker = re.compile(screen_marker.encode() if isinstance(screen_marker, str)
                                       else screen_marker)
        self.screen_marker = screen_marker

        self.tail = collections.deque(maxlen=tail_lines)
        self.verdict = None
        self.emu_status = None
        self.saw_output = False

        self._proc = None
        self._pgid = None
        self._ser_r = None      # fd we read guest output from
        self._ser_w = None      # fd we write guest input to
        self._disp_m = None     # display pty master
        self._disp_log = None
        self._disp_seen = b""   # display output not yet searched for screen_marker
        self._screen = None     # the emulator's own screen pty (slave end), drained
        self._log = None
        self._echo = not quiet
        self._partial = bytearray()
        self._to_guest = bytearray()
        self._in_open = False
        self._tty_saved = None
        self._panic_deadline = None
        self._result = None     # (code, verdict) once decided by a marker
        self._t0 = None
        self._close_later = []
        self._last_byte = b"\n"
        self._stop_why = "interrupted"

    # ------------------------------------------------------------ messages
    def _end_guest_line(self):
        """If the echoed guest output stopped mid-line and our stderr shows
        up in the same place (terminal, or 2>&1), start a new line so our
        message does not stick to it."""
        if not self._echo or self._last_byte in (b"\n", b""):
            return
        try:
            so = os.fstat(self.user_out.fileno())
            se = os.fstat(self.err.fileno())
            same = os.isatty(self.user_out.fileno()) or (
                (so.st_dev, so.st_ino) == (se.st_dev, se.st_ino))
        except (OSError, ValueError, AttributeError):
            return
        if same:
            try:
                self.user_out.write(b"\r\n")
                self.user_out.flush()
            except (OSError, ValueError):
                pass
            self._last_byte = b"\n"

    def _msg(self, text):
        self._end_guest_line()
        try:
            # (a raw user tty keeps OPOST/ONLCR, so "\n" is fine there)
            self.err.write("%s: %s\n" % (self.name, text))
            self.err.flush()
        except (OSError, ValueError):
            pass

    # ------------------------------------------------------------- startup
    def _open_stderr_target(self):
        target = self.stderr
        if target is None:
            return None
        if isinstance(target, (str, bytes, os.PathLike)):
            f = open(target, "wb")
            self._close_later.append(f)
            return f
        return target

    def _spawn(self):
        env = dict(os.environ if self.env is None else self.env)
        stdin = stdout = stderr = None
        disp_slave = None
        if self.display_tty:
            self._disp_m, disp_slave = os.openpty()
            fcntl.ioctl(disp_slave, termios.TIOCSWINSZ,
                        struct.pack("HHHH", 50, 132, 0, 0))
            _set_nonblock(self._disp_m)
            env["TERM"] = self.display_term
            stdin = stdout = stderr = disp_slave
        if self.serial == "stdio":
            stdin = stdout = subprocess.PIPE
            if not self.display_tty:
                stderr = self._open_stderr_target()
        elif not self.display_tty:
            stdin = subprocess.DEVNULL
            stderr = self._open_stderr_target()
            stdout = stderr if stderr is not None else sys.stderr.fileno()

        prctl = _libc_prctl()
        want_ctty = self.display_tty
        sigkill = int(signal.SIGKILL)

        def child_setup():
            # Runs in the child after setsid() (start_new_session=True).
            if prctl is not None:
                prctl(1, sigkill, 0, 0, 0)            # PR_SET_PDEATHSIG
            if want_ctty:
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        try:
            self._proc = subprocess.Popen(
                self.cmd, stdin=stdin, stdout=stdout, stderr=stderr,
                env=env, cwd=self.cwd, start_new_session=True,
                preexec_fn=child_setup)
        finally:
            if disp_slave is not None:
                os.close(disp_slave)
        self._pgid = self._proc.pid      # session leader == group leader

        if self.serial == "stdio":
            self._ser_r = self._proc.stdout.fileno()
            self._ser_w = self._proc.stdin.fileno()
            _set_nonblock(self._ser_r)
            _set_nonblock(self._ser_w)
        else:
            self._ser_r = self._ser_w = self.serial.master_fd

    def _setup_user_side(self):
        fd = self.user_in
        if fd is None:
            return
        try:
            os.fstat(fd)
        except OSError:
            return                          # stdin closed (CI with <&-)
        if os.isatty(fd):
            try:
                foreground = os.tcgetpgrp(fd) == os.getpgrp()
            except OSError:
                foreground = False
            if not foreground:
                return                      # background job: leave tty alone
            self._tty_saved = termios.tcgetattr(fd)
            a = termios.tcgetattr(fd)
            a[0] &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK
                      | termios.ISTRIP | termios.INLCR | termios.IGNCR
                      | termios.ICRNL | termios.IXON)
            a[2] &= ~(termios.CSIZE | termios.PARENB)
            a[2] |= termios.CS8
            a[3] &= ~(termios.ECHO | termios.ECHONL | termios.ICANON
                      | termios.ISIG | termios.IEXTEN)
            a[6][termios.VMIN] = 1
            a[6][termios.VTIME] = 0
            # Output post-processing (OPOST/ONLCR) is kept so that our own
            # messages and bare-LF guest output stay readable.
            termios.tcsetattr(fd, termios.TCSAFLUSH, a)
            self._msg("interactive console; Ctrl-] quits")
        self._in_open = True

    def _restore_tty(self):
        if self._tty_saved is not None:
            try:
                termios.tcsetattr(self.user_in, termios.TCSAFLUSH,
                                  self._tty_saved)
            except (OSError, termios.error):
                pass
            self._tty_saved = None

    # ---------------------------------------------------------- guest I/O
    def _guest_output(self, data):
        if not data:
            return
        self.saw_output = True
        if self._log is not None:
            try:
                self._log.write(data)
                self._log.flush()
            except OSError as e:
                self._msg("cannot write log: %s" % e)
                self._log = None
        if self._echo:
            try:
                self.user_out.write(data)
                self.user_out.flush()
            except (BrokenPipeError, ValueError, OSError):
                self._echo = False
        self._scan(data)
        self._last_byte = data[-1:]

    def _scan(self, data):
        self._partial += data
        if b"\n" in self._partial:
            *lines, rest = bytes(self._partial).split(b"\n")
            self._partial = bytearray(rest)
            for raw in lines:
                line = self._clean(raw)
                self.tail.append(line)
                self._check(line)
        if len(self._partial) > _MAX_PARTIAL:
            line = self._clean(bytes(self._partial))
            self._partial = bytearray()
            self.tail.append(line)
            self._check(line)
        elif self._partial:
            self._check(self._clean(bytes(self._partial)))

    @staticmethod
    def _clean(raw):
        text = raw.decode("utf-8", "replace")
        return _ANSI_RE.sub("", text).replace("\r", "")

    def _check(self, line):
        if self._result is not None or self._panic_deadline is not None:
            return
        if HALT_MARKER in line:
            self._result = (EXIT_HALTED, "halted")
        elif any(m in line for m in PANIC_MARKERS):
            self._panic_deadline = time.monotonic() + self.panic_grace
        elif self.until is not None and self.until.search(line):
            self._result = (EXIT_HALTED, "until")

    def _read_serial(self):
        """Read what is available; return False on EOF of the stream."""
        try:
            data = os.read(self._ser_r, 65536)
        except BlockingIOError:
            return True
        except OSError as e:
            if e.errno == errno.EIO:       # pty with no slave: treat as EOF
                return False
            raise
        if not data:
            return False
        self._guest_output(data)
        return True

    def _drain_serial(self, budget=0.3):
        """After the emulator died: collect what is still buffered."""
        if self._ser_r is None:
            return
        end = time.monotonic() + budget
        while time.monotonic() < end:
            r, _, _ = select.select([self._ser_r], [], [], 0.05)
            if not r:
                break
            if not self._read_serial():
                break

    def _read_user(self):
        try:
            data = os.read(self.user_in, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._in_open = False           # EOF: stop forwarding, go on
            return
        if self._tty_saved is not None and QUIT_KEY in data:
            self._to_guest += data[:data.index(QUIT_KEY)]
            self._flush_to_guest()
            raise _Stop(EXIT_INTERRUPTED, "quit (Ctrl-])")
        self._to_guest += data

    def _flush_to_guest(self):
        if not self._to_guest or self._ser_w is None:
            return
        try:
            n = os.write(self._ser_w, self._to_guest)
            del self._to_guest[:n]
        except BlockingIOError:
            pass
        except OSError:                      # EPIPE / EIO: guest side gone
            self._to_guest.clear()
            self._ser_w = None

    def _drain_display(self):
        try:
            data = os.read(self._disp_m, 65536)
        except BlockingIOError:
            return
        except OSError:
            # EIO: no process has the slave open any more.
            os.close(self._disp_m)
            self._disp_m = None
            return
        if self._disp_log is not None and data:
            self._disp_log.write(data)
            self._disp_log.flush()
        if self.screen_marker is not None and self._screen is None and data:
            self._disp_seen = (self._disp_seen + data)[-4096:]
            m = self.screen_marker.search(self._disp_seen)
            if m:
                self._open_screen(m.group(1).decode(errors="replace"))

    def _open_screen(self, path):
        """The emulator drew its screen on a pty of its own (Bochs' term display does so when
        its debugger has the console). Nobody else reads that pty: once its input buffer is
        full the emulator blocks in write() and the whole machine stops. Drain it."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError as e:
            self._msg("cannot open the emulator's screen %s: %s" % (path, e))
            return
        try:
            _make_raw(fd)               # no line discipline holding a line back
        except termios.error:
            pass
        self._screen = fd

    def _drain_screen(self):
        try:
            while os.read(self._screen, 65536):
                pass
        except BlockingIOError:
            pass
        except OSError:
            os.close(self._screen)
            self._screen = None

    # ------------------------------------------------------------ stopping
    def _killpg(self, sig):
        try:
            os.killpg(self._pgid, sig)
            return True
        except ProcessLookupError:
            return False
        except PermissionError:
            return False

    def _stop_emulator(self):
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._killpg(self.stop_signal)
            end = time.monotonic() + self.stop_grace
            while proc.poll() is None and time.monotonic() < end:
                # keep the display pty drained so the emulator can't block
                if self._disp_m is not None:
                    select.select([self._disp_m], [], [], 0.05)
                    if self._disp_m is not None:
                        self._drain_display()
                else:
                    time.sleep(0.05)
        if proc.poll() is None:
            self._killpg(signal.SIGKILL)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._msg("emulator pid %d does not die" % proc.pid)
        # Stragglers that stayed in the group (children of the emulator).
        self._killpg(signal.SIGKILL)
        self.emu_status = proc.returncode

    # ------------------------------------------------------------ main loop
    def _loop(self):
        deadline = self._t0 + self.timeout if self.timeout else None
        ser_open = True
        while True:
            if self._result is not None:
                return self._result
            now = time.monotonic()
            if self._panic_deadline is not None and now >= self._panic_deadline:
                return (EXIT_PANIC, "panic")
            if deadline is not None and now >= deadline:
                return (EXIT_TIMEOUT, "timeout")
            if self._proc.poll() is not None:
                self._drain_serial()
                if self._result is not None:
                    return self._result
                if self._panic_deadline is not None:
                    return (EXIT_PANIC, "panic")
                return (EXIT_EMU_EXITED, "emulator-exited")

            rl, wl = [], []
            if ser_open:
                rl.append(self._ser_r)
            if self._in_open:
                rl.append(self.user_in)
            if self._disp_m is not None:
                rl.append(self._disp_m)
            if self._screen is not None:
                rl.append(self._screen)
            if self._to_guest and self._ser_w is not None:
                wl.append(self._ser_w)
            wait = 0.1
            for d in (deadline, self._panic_deadline):
                if d is not None:
                    wait = max(0.0, min(wait, d - now))
            try:
                r, w, _ = select.select(rl, wl, [], wait)
            except InterruptedError:
                continue
            if self._ser_r in r:
                if not self._read_serial():
                    ser_open = False        # pipe EOF: wait for the exit
            if self._in_open and self.user_in in r:
                self._read_user()
            if self._disp_m is not None and self._disp_m in r:
                self._drain_display()
            if self._screen is not None and self._screen in r:
                self._drain_screen()
            if w or (self._to_guest and self._ser_w is not None):
                self._flush_to_guest()

    def _on_signal(self, signum, frame):
        raise _Stop(128 + signum, "got signal %d" % signum)

    def run(self):
        """Start the emulator, bridge the console, return the exit code."""
        old_handlers = {}
        code, verdict = EXIT_EMU_EXITED, "emulator-exited"
        try:
            for sig in (signal.SIGTERM, signal.SIGHUP):
                old_handlers[sig] = signal.signal(sig, self._on_signal)
            if self.log_path:
                self._log = open(self.log_path, "wb")
            if self.display_log_path:
                self._disp_log = open(self.display_log_path, "wb")
            self._t0 = time.monotonic()
            try:
                self._spawn()
            except (OSError, subprocess.SubprocessError) as e:
                self._msg("cannot start %s: %s" % (self.cmd[0], e))
                self.verdict = "emulator-exited"
                return EXIT_EMU_EXITED
            try:
                self._setup_user_side()
                code, verdict = self._loop()
            except KeyboardInterrupt:
                code, verdict = EXIT_INTERRUPTED, "interrupted"
            except _Stop as s:
                code, verdict = s.code, "interrupted"
                self._stop_why = s.why
            self._stop_emulator()
            self.verdict = verdict
            self._restore_tty()
            self._report(code, verdict)
            if self.on_finish is not None:
                self.on_finish(self, code)
            return code
        except BaseException:
            # Unexpected error (or a second Ctrl-C): never leave an emulator.
            self._restore_tty()
            try:
                self._stop_emulator()
            except BaseException:
                if self._pgid is not None:
                    self._killpg(signal.SIGKILL)
            raise
        finally:
            self._restore_tty()
            for sig, h in old_handlers.items():
                signal.signal(sig, h)
            self._cleanup()

    def _report(self, code, verdict):
        if verdict == "halted":
            if not self.quiet:
                self._msg("guest halted (exit 0)")
        elif verdict == "until":
            if not self.quiet:
                self._msg("--until /%s/ matched (exit 0)" % self.until.pattern)
        elif verdict == "panic":
            self._msg("guest PANIC/FATAL (exit 1)")
        elif verdict == "timeout":
            self._msg("timeout after %s s" % _fmt_secs(self.timeout))
            self._print_tail()
        elif verdict == "emulator-exited":
            self._msg("emulator exited on its own with %s before any verdict "
                      "marker (exit 3)" % _fmt_status(self.emu_status))
        elif verdict == "interrupted":
            self._msg("%s (exit %d)" % (self._stop_why, code))

    def _print_tail(self):
        lines = list(self.tail)
        if self._partial:
            lines.append(self._clean(bytes(self._partial)))
        lines = lines[-self.tail.maxlen:] if self.tail.maxlen else lines
        out = ["---- last %d lines of serial output ----" % len(lines)]
        out += ["| " + "".join(c if c.isprintable() or c == "\t" else "."
                               for c in ln) for ln in lines]
        out.append("---- end of serial output%s ----" %
                   ("" if self.saw_output else " (the guest printed nothing)"))
        try:
            self.err.write("\n".join(out) + "\n")
            self.err.flush()
        except (OSError, ValueError):
            pass

    def _cleanup(self):
        for f in (self._log, self._disp_log):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self._log = self._disp_log = None
        if self._screen is not None:
            try:
                os.close(self._screen)
            except OSError:
                pass
            self._screen = None
        if self._disp_m is not None:
            try:
                os.close(self._disp_m)
            except OSError:
                pass
            self._disp_m = None
        if self._proc is not None:
            for f in (self._proc.stdin, self._proc.stdout):
                if f is not None:
                    try:
                        f.close()
                    except OSError:
                        pass
        if isinstance(self.serial, SerialPty):
            self.serial.close()
        for f in self._close_later:
            try:
                f.close()
            except OSError:
                pass
        self._close_later = []


def _fmt_secs(s):
    return "%d" % s if float(s).is_integer() else "%g" % s


def _fmt_status(rc):
    if rc is None:
        return "unknown status"
    if rc < 0:
        try:
            return "signal %s" % signal.Signals(-rc).name
        except ValueError:
            return "signal %d" % -rc
    return "status %d" % rc
