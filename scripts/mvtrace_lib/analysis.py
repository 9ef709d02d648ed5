"""Selecting records and computing the reports. Every report is a Table of plain values, so that
text, CSV and JSON all print the same numbers (render.py only formats them).

Definitions (documented in `mvtrace --help` too):
  * Exit records are the events in fmt.EXIT_EVENTS; only they enter the tables.
  * Percentiles are nearest-rank: pP of n sorted costs is the value at rank ceil(P*n/100)
    (1-based, at least 1). p50 of [1,2,3,4] is 2; p95 of 20 values is the 19th.
  * The span of a selection runs from its first exit's TSC to the latest end (tsc + cost) of
    its exits; rates (exits/s, accesses/s) are counts over that span at the header's tsc_hz.
  * --from/--to select exits with from <= tsc < to; --from-ms/--to-ms are relative to the first
    record of the dump (whatever the VM filter), and so are the timeline's slices.
  * Cost buckets include their lower bound: with bounds 50000,500000 the buckets are
    [0,50000), [50000,500000), [500000,inf), labelled <50K, 50K-500K, >=500K."""
import bisect, collections, math

from . import fmt
from .dump import DumpError


class Col:
    """A column: key in each row dict, title for text/CSV, kind for formatting
    (str, int, pct, float, hex, ms)."""

    def __init__(self, key, title=None, kind="int"):
        self.key, self.title, self.kind = key, title or key, kind


class Table:
    def __init__(self, name, title, cols, rows, notes=(), kv=False):
        self.name, self.title, self.cols, self.rows = name, title, cols, rows
        self.notes = list(notes)
        self.kv = kv                    # a key/value list (summary): JSON prints an object


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an ascending list (see the module doc)."""
    if not sorted_vals:
        return None
    rank = max(1, math.ceil(p * len(sorted_vals) / 100))
    return sorted_vals[rank - 1]


def cost_stats(costs):
    s = sorted(costs)
    n, total = len(s), sum(s)
    return {"count": n, "cycles": total, "avg": total / n if n else None,
            "min": s[0] if s else None, "max": s[-1] if s else None,
            "p5": percentile(s, 5), "p50": percentile(s, 50), "p95": percentile(s, 95)}


def pct(part, whole):
    return 100.0 * part / whole if whole else None


def resolve_vm(dump, spec):
    """A VM id from a --vm argument: a name in the header's vms= list, or a number."""
    for vid, (name, _) in dump.vms.items():
        if name == spec:
            return vid
    if spec.isdigit():
        return int(spec)
    known = ", ".join(f"{n} ({i})" for i, (n, _) in sorted(dump.vms.items())) or "none"
    raise DumpError(f"--vm {spec}: no VM of that name in dump {dump.index} (VMs: {known})")


class Selection:
    """The exits of one dump that pass the filters, with the costs the reports use."""

    def __init__(self, dump, vm=None, tsc_from=None, tsc_to=None, ms_from=None, ms_to=None,
                 subtract_overhead=False):
        self.dump = dump
        self.tsc_hz = dump.tsc_hz
        self.origin = min((r.tsc for r in dump.records), default=0)
        self.vm = None if vm is None else resolve_vm(dump, str(vm))
        if ms_from is not None:
            tsc_from = self.origin + round(ms_from * self.tsc_hz / 1000)
        if ms_to is not None:
            tsc_to = self.origin + round(ms_to * self.tsc_hz / 1000)
        self.tsc_from, self.tsc_to = tsc_from, tsc_to
        self.subtracted = dump.overhead if subtract_overhead else 0
        chosen = [r for r in dump.records
                  if (self.vm is None or r.vm == self.vm)
                  and (tsc_from is None or r.tsc >= tsc_from)
                  and (tsc_to is None or r.tsc < tsc_to)]
        self.other_events = sum(1 for r in chosen if r.event not in fmt.EXIT_EVENTS)
        # (record, cost): the cost with the tracing overhead taken off when asked, floor 0.
        self.exits = [(r, max(0, r.cost - self.subtracted)) for r in chosen if r.event in fmt.EXIT_EVENTS]
        self.total_cycles = sum(c for _, c in self.exits)
        if self.exits:
            self.start = min(r.tsc for r, _ in self.exits)
            self.span = max(r.tsc + r.cost for r, _ in self.exits) - self.start
        else:
            self.start, self.span = None, 0

    def per_second(self, count):
        return count * self.tsc_hz / self.span if self.span else None

    def ms(self, cycles):
        return 1000.0 * cycles / self.tsc_hz

    def describe(self):
        parts = []
        if self.vm is not None:
            parts.append(f"vm={self.dump.vm_name(self.vm)} (id {self.vm})")
        if self.tsc_from is not None:
            parts.append(f"tsc>={self.tsc_from} ({self.ms(self.tsc_from - self.origin):.3f} ms)")
        if self.tsc_to is not None:
            parts.append(f"tsc<{self.tsc_to} ({self.ms(self.tsc_to - self.origin):.3f} ms)")
        return ", ".join(parts) or "all records"

    def cost_note(self):
        if not self.subtracted:
            return "costs as recorded (tracing overhead included)"
        return (f"costs minus the header's tracing overhead of {self.subtracted} cycles/record "
                "(floor 0)")


def _group(items, key):
    groups = collections.defaultdict(list)
    for r, c in items:
        groups[key(r)].append(c)
    return groups


def _direction(r):
    return "in" if r.flags & fmt.F_IN else "out"


def summary(sel):
    d = sel.dump
    vms = ", ".join(f"{i}:{n} ({m} MiB)" for i, (n, m) in sorted(d.vms.items())) or "-"
    rows = [
        ("dump", f"{d.index} (log lines {d.begin_line}-{d.end_line if d.end_line else '?'})"),
        ("format", f"v={d.version}"), ("tsc_hz", d.tsc_hz), ("cpu", d.header.get("cpu", "")),
        ("vmx_rev", d.header.get("vmx_rev", "")), ("build", d.header.get("build", "")),
        ("overhead", d.overhead), ("vms", vms), ("records", len(d.records)),
        ("lost", d.lost), ("dropped", d.dropped()), ("selection", sel.describe()),
        ("exits", len(sel.exits)), ("other_events", sel.other_events),
        ("exit_cycles", sel.total_cycles), ("first_tsc", sel.start),
        ("span_cycles", sel.span), ("span_ms", sel.ms(sel.span)),
        ("exits_per_s", sel.per_second(len(sel.exits))), ("costs", sel.cost_note()),
    ]
    kinds = {"span_ms": "float", "exits_per_s": "float"}
    out = [{"key": k, "value": v, "kind": kinds.get(k, "int" if isinstance(v, int) else "str")}
           for k, v in rows]
    return Table("summary", "summary", [Col("key", kind="str"), Col("value", kind="str")], out, kv=True)


STAT_COLS = [Col("avg", kind="float"), Col("min"), Col("max"), Col("p5"), Col("p50"), Col("p95")]


def reasons(sel):
    rows = []
    for reason, costs in sorted(_group(sel.exits, lambda r: r.reason).items()):
        s = cost_stats(costs)
        rows.append({"reason": reason, "name": fmt.reason_name(reason), "count": s["count"],
                     "count_pct": pct(s["count"], len(sel.exits)), "cycles": s["cycles"],
                     "cycles_pct": pct(s["cycles"], sel.total_cycles),
                     **{k: s[k] for k in ("avg", "min", "max", "p5", "p50", "p95")}})
    cols = [Col("reason"), Col("name", kind="str"), Col("count"), Col("count_pct", "count%", "pct"),
            Col("cycles"), Col("cycles_pct", "cycles%", "pct")] + STAT_COLS
    return Table("reasons", "exit reasons", cols, rows,
                 [f"{len(sel.exits)} exits, {sel.total_cycles} cycles; {sel.cost_note()}"])


def _io(sel):
    return [(r, c) for r, c in sel.exits if r.event == fmt.EV_IO]


def ports(sel):
    io = _io(sel)
    rows = []
    for (port, d), costs in sorted(_group(io, lambda r: (r.info, _direction(r))).items()):
        n, total = len(costs), sum(costs)
        rows.append({"port": port, "dir": d, "name": fmt.port_name(port), "count": n,
                     "access_pct": pct(n, len(io)), "cycles": total,
                     "time_pct": pct(total, sel.total_cycles), "avg": total / n,
                     "per_s": sel.per_second(n)})
    cols = [Col("port", kind="hex"), Col("dir", kind="str"), Col("name", kind="str"), Col("count"),
            Col("access_pct", "access%", "pct"), Col("cycles"), Col("time_pct", "time%", "pct"),
            Col("avg", kind="float"), Col("per_s", "per_s", "float")]
    return Table("ports", "I/O ports", cols, rows,
                 [f"{len(io)} I/O exits; access% is of I/O exits, time% of all exit cycles; "
                  f"per_s over the {sel.ms(sel.span):.3f} ms span"])


def _si(n):
    for div, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1000, "K")):
        if n >= div and n % div == 0:
            return f"{n // div}{suffix}"
    return str(n)


def bucket_labels(bounds):
    labels = [f"<{_si(bounds[0])}"]
    labels += [f"{_si(a)}-{_si(b)}" for a, b in zip(bounds, bounds[1:])]
    return labels + [f">={_si(bounds[-1])}"]


def parse_bounds(text):
    try:
        bounds = [int(x, 0) for x in text.split(",")]
    except ValueError:
        bounds = []
    if not bounds or any(b <= 0 for b in bounds) or bounds != sorted(set(bounds)):
        raise ValueError(f"--buckets {text!r}: expected increasing positive cycle counts, e.g. 50000,500000,5000000")
    return bounds


def buckets(sel, bounds):
    labels = bucket_labels(bounds)
    rows = []
    for (port, d), costs in sorted(_group(_io(sel), lambda r: (r.info, _direction(r))).items()):
        counts = [0] * len(labels)
        for c in costs:
            counts[bisect.bisect_right(bounds, c)] += 1
        rows.append({"port": port, "dir": d, "name": fmt.port_name(port), "count": len(costs),
                     **dict(zip(labels, counts))})
    cols = [Col("port", kind="hex"), Col("dir", kind="str"), Col("name", kind="str"), Col("count")]
    return Table("buckets", "I/O cost buckets (cycles)", cols + [Col(label) for label in labels], rows)


def msrs(sel):
    items = [(r, c) for r, c in sel.exits if r.event == fmt.EV_MSR]
    rows = []
    for (msr, d), costs in sorted(_group(items, lambda r: (r.info, "rd" if r.flags & fmt.F_IN else "wr")).items()):
        s = cost_stats(costs)
        rows.append({"msr": msr, "dir": d, "name": fmt.msr_name(msr), "count": s["count"],
                     "cycles": s["cycles"], "avg": s["avg"], "min": s["min"], "max": s["max"]})
    cols = [Col("msr", kind="hex"), Col("dir", kind="str"), Col("name", kind="str"), Col("count"),
            Col("cycles"), Col("avg", kind="float"), Col("min"), Col("max")]
    return Table("msrs", "MSR accesses", cols, rows)


def mmio(sel):
    """Per guest-physical address of the trapped MMIO accesses (EV_MMIO: qual is the address)."""
    items = [(r, c) for r, c in sel.exits if r.event == fmt.EV_MMIO]
    rows = []
    for addr, costs in sorted(_group(items, lambda r: r.qual).items()):
        n, total = len(costs), sum(costs)
        rows.append({"addr": addr, "count": n, "access_pct": pct(n, len(items)), "cycles": total,
                     "time_pct": pct(total, sel.total_cycles), "avg": total / n, "per_s": sel.per_second(n)})
    cols = [Col("addr", kind="hex"), Col("count"), Col("access_pct", "access%", "pct"), Col("cycles"),
            Col("time_pct", "time%", "pct"), Col("avg", kind="float"), Col("per_s", "per_s", "float")]
    return Table("mmio", "MMIO registers", cols, rows,
                 [f"{len(items)} MMIO exits; access% is of MMIO exits, time% of all exit cycles"])


def auto_slice_ms(sel, target=20):
    """A 1-2-5 slice width giving at most `target` slices over the selection's span."""
    want = sel.ms(sel.span) / target
    step = 1e-3
    while True:
        for m in (1, 2, 5):
            if step * m >= want:
                return step * m
        step *= 10


def timeline(sel, slice_ms=None):
    slice_ms = slice_ms or auto_slice_ms(sel)
    width = slice_ms * sel.tsc_hz / 1000
    if width <= 0:
        raise ValueError("--slice-ms must be positive")
    if sel.span / width > MAX_SLICES:
        raise ValueError(f"--slice-ms {slice_ms:g} would make over {MAX_SLICES} slices of the "
                         f"{sel.ms(sel.span):.3f} ms span")
    counts = collections.defaultdict(collections.Counter)
    totals = collections.Counter()
    for r, _ in sel.exits:
        i = int((r.tsc - sel.origin) // width)
        counts[i][r.reason] += 1
        totals[r.reason] += 1
    order = sorted(totals, key=lambda x: (-totals[x], x))
    rows = []
    if counts:
        for i in range(min(counts), max(counts) + 1):
            row = {"slice": i, "start_ms": i * slice_ms, "exits": sum(counts[i].values())}
            row.update({fmt.reason_name(x): counts[i][x] for x in order})
            rows.append(row)
    cols = [Col("slice"), Col("start_ms", kind="ms"), Col("exits")]
    cols += [Col(fmt.reason_name(x)) for x in order]
    return Table("timeline", f"exits per {slice_ms:g} ms slice", cols, rows,
                 [f"slices of {slice_ms:g} ms from the dump's first record"])


MAX_SLICES = 100_000
REPORTS = ("summary", "reasons", "ports", "buckets", "msrs", "mmio", "timeline")
