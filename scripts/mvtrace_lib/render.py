"""Printing report tables.

  text  a titled, aligned table per report ("== exit reasons =="), notes under it; '-' for
        values that do not exist (a rate over an empty span).
  csv   one report: plain CSV, a header row then data rows. Several reports: one block each,
        a '# <report>' line, the header row, data rows, then an empty line. Ports and MSRs are
        written as 0x-hex strings, percentages with 4 decimals, absent values empty. When costs
        had the overhead subtracted, a first line '# costs minus ...' says so.
  json  one object: {"dump": N, "costs": "...", "overhead_subtracted": cycles,
        "reports": {"summary": {key: value}, "<report>": [row objects]}}. Numbers are raw
        (ports and MSRs as integers, percentages as floats 0-100, absent values null)."""
import csv, json


def _text_value(v, kind):
    if v is None:
        return "-"
    if kind == "pct":
        return f"{v:.2f}"
    if kind == "float":
        return f"{v:.1f}"
    if kind == "ms":
        return f"{v:.3f}"
    if kind == "hex":
        return f"{v:#x}"
    return str(v)


def _csv_value(v, kind):
    if v is None:
        return ""
    if kind == "pct":
        return f"{v:.4f}"
    if kind in ("float", "ms"):
        return f"{v:.3f}" if isinstance(v, float) else str(v)
    if kind == "hex":
        return f"{v:#x}"
    return v


def text(tables, out):
    for t in tables:
        out.write(f"== {t.title} ==\n")
        if t.kv:
            width = max((len(r["key"]) for r in t.rows), default=0)
            for r in t.rows:
                out.write(f"{r['key']:<{width}}  {_text_value(r['value'], r['kind'])}\n")
        elif not t.rows:
            out.write("(no records)\n")
        else:
            cells = [[c.title for c in t.cols]]
            cells += [[_text_value(r.get(c.key), c.kind) for c in t.cols] for r in t.rows]
            widths = [max(len(row[i]) for row in cells) for i in range(len(t.cols))]
            for row in cells:
                line = "  ".join(v.ljust(w) if c.kind == "str" else v.rjust(w)
                                 for v, w, c in zip(row, widths, t.cols))
                out.write(line.rstrip() + "\n")
        for n in t.notes:
            out.write(f"  {n}\n")
        out.write("\n")


def csv_out(tables, out, sel):
    w = csv.writer(out, lineterminator="\n")
    if sel.subtracted:
        out.write(f"# {sel.cost_note()}\n")
    many = len(tables) > 1
    for i, t in enumerate(tables):
        if many:
            out.write(("\n" if i else "") + f"# {t.name}\n")
        if t.kv:
            w.writerow(["key", "value"])
            w.writerows([r["key"], _csv_value(r["value"], r["kind"])] for r in t.rows)
        else:
            w.writerow([c.title for c in t.cols])
            w.writerows([_csv_value(r.get(c.key), c.kind) for c in t.cols] for r in t.rows)


def json_out(tables, out, sel):
    reports = {}
    for t in tables:
        if t.kv:
            reports[t.name] = {r["key"]: r["value"] for r in t.rows}
        else:
            reports[t.name] = [{c.key: r.get(c.key) for c in t.cols} for r in t.rows]
    doc = {"dump": sel.dump.index, "costs": sel.cost_note(), "overhead_subtracted": sel.subtracted,
           "reports": reports}
    json.dump(doc, out, indent=1)
    out.write("\n")


def render(tables, fmt_name, out, sel):
    if fmt_name == "text":
        if sel.subtracted:
            out.write(f"NOTE: {sel.cost_note()}\n\n")
        text(tables, out)
    elif fmt_name == "csv":
        csv_out(tables, out, sel)
    else:
        json_out(tables, out, sel)
