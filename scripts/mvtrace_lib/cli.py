"""The mvtrace command line. Exit status: 0 success; 1 reports printed but --png could not write
its PNGs (no matplotlib); 2 an unusable dump or a usage error (message on stderr)."""
import argparse, contextlib, sys

from . import analysis, dump, render, sample

EPILOG = """\
reports (--report, comma-separated; default summary,reasons,ports):
  summary   header info, records, lost, span, exits/s
  reasons   per exit reason: count, count%, cycles, cycles%, avg, min, max, p5, p50, p95
  ports     per (I/O port, direction): count, access% (of I/O exits), cycles, time% (of all
            exit cycles), avg, accesses/s
  buckets   per (I/O port, direction): exits per cost bucket (--buckets bounds)
  msrs      per (MSR, direction): count, cycles, avg, min, max
  mmio      per guest-physical address of trapped MMIO accesses: count, access%, cycles,
            time%, avg, accesses/s
  timeline  per time slice (--slice-ms): exits by reason

definitions:
  Percentiles are nearest-rank: pP of n sorted costs is the one at rank ceil(P*n/100).
  The span runs from the first selected exit's TSC to the latest tsc+cost of the selection;
  rates are counts over that span at the header's tsc_hz.
  --from/--to select from <= tsc < to; --from-ms/--to-ms count from the dump's first record.
  Buckets include their lower bound: <50K, 50K-500K, 500K-5M, >=5M by default.
  Dumps are numbered from 1 in log order; --dump -1 (the default) is the last one.
  Markers may follow other text on a line (a prompt); CR, LF and ANSI escapes are ignored.

exit status: 0 ok, 1 PNGs not written (no matplotlib), 2 bad dump or usage error"""


class Usage(Exception):
    pass


def tsc_value(text):
    """A TSC bound: decimal, or 0x-hex as the VMM prints addresses."""
    return int(text, 0)


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="mvtrace", description="Check and analyse monovisor trace dumps in a serial log.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", nargs="?", metavar="SERIAL_LOG", help="serial log ('-' for stdin)")
    ap.add_argument("--dump", type=int, default=-1, metavar="N", help="which dump (1-based; -1 last)")
    ap.add_argument("--list", action="store_true", help="list the dumps in the log and their state")
    ap.add_argument("--lenient", action="store_true",
                    help="skip bad data lines instead of failing, and report the records dropped")
    ap.add_argument("--vm", metavar="ID|NAME", help="only this VM (name from the header's vms=)")
    ap.add_argument("--from", dest="tsc_from", type=tsc_value, metavar="TSC",
                    help="only exits with tsc >= TSC (decimal or 0x-hex)")
    ap.add_argument("--to", dest="tsc_to", type=tsc_value, metavar="TSC", help="only exits with tsc < TSC")
    ap.add_argument("--from-ms", type=float, metavar="MS", help="like --from, in ms after the dump's first record")
    ap.add_argument("--to-ms", type=float, metavar="MS", help="like --to, in ms after the dump's first record")
    ap.add_argument("--report", default="summary,reasons,ports", metavar="LIST",
                    help="reports to print, comma-separated (below)")
    ap.add_argument("--format", choices=("text", "csv", "json"), default="text",
                    help="text tables (default), CSV, or one JSON object")
    ap.add_argument("--buckets", default="50000,500000,5000000", metavar="B1,B2,...",
                    help="cost bucket bounds in cycles")
    ap.add_argument("--slice-ms", type=float, metavar="MS", help="timeline slice (default: auto, <= 20 slices)")
    ap.add_argument("--overhead-subtract", action="store_true",
                    help="subtract the header's per-record tracing overhead from every cost (floor 0)")
    ap.add_argument("--png", metavar="DIR", help="also write histogram.png and timeline.png here")
    ap.add_argument("--make-sample", metavar="OUT.log", help="write a synthetic serial log and exit")
    a = ap.parse_args(argv)
    if a.make_sample:
        return a
    if not a.log:
        raise Usage("a SERIAL_LOG is required (or --make-sample OUT.log)")
    if (a.tsc_from is not None and a.from_ms is not None) or (a.tsc_to is not None and a.to_ms is not None):
        raise Usage("give an interval bound either in TSC (--from/--to) or in ms (--from-ms/--to-ms), not both")
    a.reports = [r.strip() for r in a.report.split(",") if r.strip()]
    unknown = [r for r in a.reports if r not in analysis.REPORTS]
    if unknown or not a.reports:
        raise Usage(f"--report: unknown report(s) {', '.join(unknown) or '(none)'}; "
                    f"choose from {','.join(analysis.REPORTS)}")
    if a.slice_ms is not None and a.slice_ms <= 0:
        raise Usage("--slice-ms must be positive")
    try:
        a.bounds = analysis.parse_bounds(a.buckets)
    except ValueError as e:
        raise Usage(str(e))
    return a


def list_dumps(dumps, out):
    for d in dumps:
        state = "ok" if not d.problems else f"{len(d.problems)} problem(s): {d.problems[0]}"
        out.write(f"dump {d.index}: lines {d.begin_line}-{d.end_line or '?'}, {len(d.records)} records"
                  f" decoded of {d.expected_records}, lost {d.lost}: {state}\n")


def build_tables(sel, a):
    makers = {"summary": lambda: analysis.summary(sel), "reasons": lambda: analysis.reasons(sel),
              "ports": lambda: analysis.ports(sel), "buckets": lambda: analysis.buckets(sel, a.bounds),
              "msrs": lambda: analysis.msrs(sel), "mmio": lambda: analysis.mmio(sel),
              "timeline": lambda: analysis.timeline(sel, a.slice_ms)}
    return [makers[r]() for r in a.reports]


def run(argv, out, err):
    try:
        # argparse prints --help and its own usage errors itself: send them to out and err.
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            a = parse_args(argv)
    except Usage as e:
        err.write(f"mvtrace: {e}\n")
        return 2
    except SystemExit as e:             # argparse's own usage errors and --help
        return e.code
    if a.make_sample:
        sample.write_sample(a.make_sample)
        err.write(f"mvtrace: wrote {a.make_sample}; try: mvtrace --report summary,reasons,ports,buckets "
                  f"{a.make_sample}\n")
        return 0
    try:
        dumps = dump.parse_log(dump.read_log(a.log))
        if a.list:
            list_dumps(dumps, out)
            return 0 if dumps else 2
        d = dump.pick(dumps, a.dump, a.log)
        # Only the chosen dump must be sound; a broken earlier dump is worth a warning.
        for other in dumps:
            if other is not d and other.problems:
                err.write(f"mvtrace: warning: dump {other.index} (not the one analysed) has "
                          f"problems: {other.problems[0]}\n")
        for p in d.check(a.log, a.lenient):
            err.write(f"mvtrace: lenient: {a.log}:{p.line}: {p.msg}\n")
        if a.lenient and d.problems:
            err.write(f"mvtrace: lenient: {d.lines_bad} data line(s) skipped, {d.dropped()} of "
                      f"{d.expected_records} records dropped\n")
        sel = analysis.Selection(d, a.vm, a.tsc_from, a.tsc_to, a.from_ms, a.to_ms,
                                 a.overhead_subtract)
    except dump.DumpError as e:
        err.write(f"mvtrace: {e}\n")
        return 2
    except OSError as e:
        err.write(f"mvtrace: {e}\n")
        return 2
    try:
        tables = build_tables(sel, a)
    except ValueError as e:
        err.write(f"mvtrace: {e}\n")
        return 2
    render.render(tables, a.format, out, sel)
    if a.png:
        from . import plots
        try:
            for p in plots.write_pngs(sel, a.png, a.slice_ms):
                err.write(f"mvtrace: wrote {p}\n")
        except plots.PlotUnavailable as e:
            err.write(f"mvtrace: no PNGs written: {e}\n")
            return 1
    return 0


def main(argv=None):
    return run(sys.argv[1:] if argv is None else argv, sys.stdout, sys.stderr)
