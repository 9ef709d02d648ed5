"""Finding, checking and building serial trace dumps (trace/trace_format.h).

How a serial log is read (decisions the format header leaves open):
  * Lines end at '\\n'; a '\\r' anywhere also ends a line fragment, so CRLF, LFCR and a CR that
    overwrote a line all work. Line numbers in messages count '\\n' from 1.
  * ANSI escape sequences (GRUB paints its menu with them) and other control characters are
    removed before matching.
  * A marker may follow arbitrary text on its line: `monovisor> MVTRACE BEGIN ...` is a header.
    `MVT ` counts as a data line when it starts the line or follows a character that is not a
    letter, digit or '_'. Everything after the marker, to the end of the line, belongs to it.
  * Inside a dump, a line without a marker is other console output and is skipped; a line with
    `MVT ` is data and must be valid. Data lines outside any dump are ignored.
  * Dumps are numbered from 1 in log order. A BEGIN before the previous dump's END leaves that
    dump truncated.
Checks, each a Problem naming the log line: header version and numeric fields, each line's
fields, base64 (strict, padding included), CRC-32, payload of 1..RECS_PER_LINE whole records,
seq contiguous from 0, END present, END lines = data lines seen, END records = header records
= records decoded, END lost = header lost."""
import base64, binascii, re, sys, zlib

from . import fmt

ANSI_RX = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[ -/]*[0-~])")
CTRL_RX = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
BEGIN_RX = re.compile(r"MVTRACE BEGIN(?=\s|$)(.*)")
END_RX = re.compile(r"MVTRACE END(?=\s|$)(.*)")
DATA_RX = re.compile(r"(?<![A-Za-z0-9_])MVT (.*)")
HEADER_INTS = ("tsc_hz", "overhead", "records", "lost")
HEADER_REQUIRED = ("v", "tsc_hz", "records", "lost")


class DumpError(Exception):
    """A dump that cannot be used; str() names the log line and the problem."""


class Problem:
    """One thing wrong with a dump. `fatal` problems make the dump unreadable even with
    --lenient (an unknown version, an unusable header, no BEGIN)."""

    def __init__(self, line, msg, fatal=False):
        self.line, self.msg, self.fatal = line, msg, fatal

    def __str__(self):
        return f"line {self.line}: {self.msg}"


class Dump:
    def __init__(self, index, line):
        self.index = index              # 1-based, in log order
        self.begin_line = line
        self.end_line = None
        self.header = {}                # raw key -> value strings of the BEGIN line
        self.version = None
        self.tsc_hz = 0
        self.overhead = 0
        self.header_records = 0
        self.header_lost = 0
        self.vms = {}                   # id -> (name, mem MiB)
        self.end = None                 # END's lines/records/lost, once seen
        self.records = []               # decoded, in dump order
        self.problems = []
        self.lines_seen = 0             # data lines whose seq was readable
        self.lines_bad = 0              # data lines skipped (bad CRC, base64, size, fields)
        self.next_seq = 0

    # -- building, line by line --

    def problem(self, line, msg, fatal=False):
        self.problems.append(Problem(line, msg, fatal))

    def fatal(self):
        return any(p.fatal for p in self.problems)

    def parse_header(self, line, text):
        for tok in text.split():
            key, eq, val = tok.partition("=")
            if not eq or not key:
                self.problem(line, f"malformed header field {tok!r} (expected key=value)", True)
                continue
            self.header[key] = val
        missing = [k for k in HEADER_REQUIRED if k not in self.header]
        if missing:
            self.problem(line, "header lacks " + ", ".join(missing), True)
            return
        if self.header["v"] != str(fmt.FORMAT_VERSION):
            self.problem(line, f"unsupported trace format version v={self.header['v']} "
                               f"(this parser reads v={fmt.FORMAT_VERSION})", True)
            return
        self.version = fmt.FORMAT_VERSION
        for key in HEADER_INTS:
            if key in self.header:
                try:
                    val = int(self.header[key], 10)
                    if val < 0:
                        raise ValueError
                    setattr(self, {"records": "header_records", "lost": "header_lost"}.get(key, key), val)
                except ValueError:
                    self.problem(line, f"header {key}={self.header[key]!r} is not a number", True)
        if self.tsc_hz == 0 and not self.fatal():
            self.problem(line, "header tsc_hz=0: cannot convert cycles to time", True)
        self.parse_vms(line, self.header.get("vms", "-"))

    def parse_vms(self, line, text):
        if text == "-":
            return
        for item in text.split(","):
            parts = item.split(":")
            try:
                # A VM name could hold ':' in principle; id and memory are the outer fields.
                if len(parts) < 3 or not parts[1]:
                    raise ValueError
                vid, name, mem = int(parts[0]), ":".join(parts[1:-1]), int(parts[-1])
            except ValueError:
                self.problem(line, f"malformed vms entry {item!r} (expected id:name:MiB)", True)
                continue
            self.vms[vid] = (name, mem)

    def add_data(self, line, text):
        if self.fatal():
            return                      # an unreadable header: the records mean nothing
        fields = text.split()
        if len(fields) != 3 or not fields[0].isdigit():
            self.lines_bad += 1
            self.problem(line, f"malformed data line (expected 'MVT <seq> <base64> <crc32>'): MVT {text.strip()[:60]!r}")
            return
        seq = int(fields[0])
        self.lines_seen += 1
        if seq != self.next_seq:
            what = ("missing" if seq > self.next_seq else "repeated or out of order")
            self.problem(line, f"seq {seq} where {self.next_seq} was expected (data line {what})")
            if seq < self.next_seq:
                self.lines_bad += 1     # a duplicate must not be counted twice
                return
        self.next_seq = seq + 1
        if not re.fullmatch(r"[0-9A-Fa-f]{8}", fields[2]):
            self.lines_bad += 1
            self.problem(line, f"seq {seq}: malformed CRC field {fields[2][:20]!r} (expected 8 hex digits)")
            return
        try:
            payload = base64.b64decode(fields[1], validate=True)
        except (binascii.Error, ValueError) as e:
            self.lines_bad += 1
            self.problem(line, f"seq {seq}: bad base64 payload ({e})")
            return
        crc = zlib.crc32(payload)
        if crc != int(fields[2], 16):
            self.lines_bad += 1
            self.problem(line, f"seq {seq}: CRC mismatch (line says {fields[2].lower()}, payload has {crc:08x})")
            return
        n = len(payload)
        if n == 0 or n % fmt.RECORD_SIZE or n > fmt.RECS_PER_LINE * fmt.RECORD_SIZE:
            self.lines_bad += 1
            self.problem(line, f"seq {seq}: payload of {n} bytes is not 1..{fmt.RECS_PER_LINE} "
                               f"whole {fmt.RECORD_SIZE}-byte records")
            return
        self.records.extend(fmt.unpack_records(payload))

    def finish(self, line, text):
        self.end_line = line
        if self.fatal():
            return
        vals = {}
        for tok in text.split():
            key, _, val = tok.partition("=")
            vals[key] = val
        try:
            self.end = {k: int(vals[k], 10) for k in ("lines", "records", "lost")}
        except (KeyError, ValueError):
            self.problem(line, f"malformed END line (expected 'MVTRACE END lines=N records=N lost=N'): {text.strip()!r}")
            return
        e = self.end
        if e["lines"] != self.lines_seen:
            self.problem(line, f"END says lines={e['lines']} but {self.lines_seen} data lines were seen"
                               + (" (data lines missing at the end)" if e["lines"] > self.lines_seen else ""))
        if e["records"] != self.header_records:
            self.problem(line, f"record count mismatch: END says records={e['records']}, "
                               f"header (line {self.begin_line}) says records={self.header_records}")
        if e["records"] != len(self.records) and not self.lines_bad and e["lines"] == self.lines_seen:
            # With bad or missing lines the shortfall is already reported; this is the case of
            # lines that all check out yet carry the wrong number of records.
            self.problem(line, f"record count mismatch: END says records={e['records']}, "
                               f"the data lines hold {len(self.records)}")
        if e["lost"] != self.header_lost:
            self.problem(line, f"lost count mismatch: END says lost={e['lost']}, header says lost={self.header_lost}")

    # -- using --

    @property
    def expected_records(self):
        return self.end["records"] if self.end else self.header_records

    @property
    def lost(self):
        return self.end["lost"] if self.end else self.header_lost

    def dropped(self):
        """Records announced but not decoded (what --lenient lost)."""
        return max(0, self.expected_records - len(self.records))

    def check(self, path, lenient=False):
        """Raises DumpError unless the dump is usable: in strict mode, any problem at all; in
        lenient mode, a fatal one. Returns the problems that lenient mode let through."""
        bad = [p for p in self.problems if p.fatal or not lenient]
        if bad:
            more = f" (and {len(bad) - 1} more problem(s))" if len(bad) > 1 else ""
            hint = "" if lenient or bad[0].fatal else "; --lenient reads what is intact and lists every problem"
            raise DumpError(f"{path}:{bad[0].line}: dump {self.index}: {bad[0].msg}{more}{hint}")
        return list(self.problems)

    def vm_name(self, vid):
        return self.vms[vid][0] if vid in self.vms else str(vid)


def log_lines(text):
    """(line number, cleaned fragment) for every fragment of the log (see the module doc)."""
    for no, line in enumerate(text.split("\n"), 1):
        for frag in line.split("\r"):
            frag = CTRL_RX.sub("", ANSI_RX.sub("", frag))
            if frag:
                yield no, frag


def parse_log(text):
    """Every dump in a serial log, in order, with its problems recorded (never raised)."""
    dumps, cur, last = [], None, 0
    for no, frag in log_lines(text):
        last = no
        m = BEGIN_RX.search(frag)
        if m:
            if cur:
                cur.problem(no, f"no MVTRACE END: a new MVTRACE BEGIN at line {no} (dump truncated)")
            cur = Dump(len(dumps) + 1, no)
            dumps.append(cur)
            cur.parse_header(no, m.group(1))
            continue
        m = END_RX.search(frag)
        if m:
            if cur:
                cur.finish(no, m.group(1))
                cur = None
            else:
                # The log starts in the middle of a dump: keep it visible as a broken dump.
                orphan = Dump(len(dumps) + 1, no)
                orphan.problem(no, "MVTRACE END without MVTRACE BEGIN (the log starts inside a dump?)", True)
                dumps.append(orphan)
            continue
        m = DATA_RX.search(frag)
        if m and cur:
            cur.add_data(no, m.group(1))
    if cur:
        cur.problem(last, f"no MVTRACE END (the log ends at line {last}: dump truncated)")
    return dumps


def read_log(path):
    """The text of a serial log ('-' for stdin). Serial logs are mostly ASCII; anything else is
    other console output, so undecodable bytes are replaced rather than refused."""
    if path == "-":
        return sys.stdin.buffer.read().decode("utf-8", "replace")
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def pick(dumps, n, path):
    """Dump number n (1-based; negative counts from the end, -1 = the last)."""
    if not dumps:
        raise DumpError(f"{path}: no MVTRACE BEGIN line: the log holds no trace dump")
    if n == 0 or abs(n) > len(dumps):
        raise DumpError(f"{path}: --dump {n}: the log holds {len(dumps)} dump(s), numbered 1..{len(dumps)}")
    return dumps[n - 1] if n > 0 else dumps[n]


# ---- building dumps (tests, samples) ----

def make_header(records, lost=0, tsc_hz=100_000_000, cpu="sample_cpu", vmx_rev=0x2b,
                build="0123456789abcdef", overhead=15, vms=None, version=fmt.FORMAT_VERSION):
    vms = {0: ("vm0", 16)} if vms is None else vms
    vmlist = ",".join(f"{i}:{name}:{mem}" for i, (name, mem) in sorted(vms.items())) or "-"
    # vmx_rev as the VMM's %#x prints it: 0x2b, and a bare 0 for zero.
    return (f"MVTRACE BEGIN v={version} tsc_hz={tsc_hz} cpu={cpu} vmx_rev={vmx_rev:#x} build={build} "
            f"overhead={overhead} records={records} lost={lost} vms={vmlist}")


def data_line(seq, payload, crc=None):
    crc = zlib.crc32(payload) if crc is None else crc
    return f"MVT {seq} {base64.b64encode(payload).decode()} {crc:08x}"


def make_dump(records, lost=0, per_line=fmt.RECS_PER_LINE, **header):
    """The exact lines `trace dump` prints for these records (fmt.Record or 9-tuples), without
    line endings. Keyword arguments go to make_header (tsc_hz, vms, overhead, ...)."""
    lines = [make_header(len(records), lost, **header)]
    blob = b"".join(fmt.pack_record(r) for r in records)
    step = per_line * fmt.RECORD_SIZE
    for seq, off in enumerate(range(0, len(blob), step)):
        lines.append(data_line(seq, blob[off:off + step]))
    lines.append(f"MVTRACE END lines={len(lines) - 1} records={len(records)} lost={lost}")
    return lines


def rec(tsc, reason, cost, event=fmt.EV_EXIT, vm=0, info=0, flags=0, qual=0, vcpu=0):
    return fmt.Record(tsc, event, vm, vcpu, reason, flags, info, cost, qual)


def io_rec(tsc, port, cost, is_in=False, size=1, vm=0):
    flags = (fmt.F_IN if is_in else 0) | (size << fmt.F_SIZE_SHIFT)
    return rec(tsc, fmt.EXIT_REASON_IO, cost, fmt.EV_IO, vm, port, flags)


def msr_rec(tsc, msr, cost, is_read=True, vm=0):
    return rec(tsc, 31 if is_read else 32, cost, fmt.EV_MSR, vm, msr, fmt.F_IN if is_read else 0)
