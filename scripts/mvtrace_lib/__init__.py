"""mvtrace_lib: reads monovisor's serial trace dumps (trace/trace_format.h) and turns them into
the seed paper's tables. scripts/mvtrace is the command line; tests/py/ tests this package.

Modules, from the wire up:
  fmt       the record layout, event and flag numbers, exit-reason/port/MSR names
  dump      finds and checks dumps in a serial log; builds exact dumps (for tests and samples)
  analysis  filters records and computes the reports as plain tables
  render    prints tables as text, CSV or JSON
  plots     PNG histograms and timeline (matplotlib, optional)
  sample    a synthetic serial log with a dump, for trying the tool out
  cli       argument parsing and the exit-status policy
Only the Python standard library is needed, except for PNG output."""
