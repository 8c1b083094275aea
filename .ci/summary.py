#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Sum every test case of a run into one plain line: `N passed, M failed`.

Reads meson's testlog.json (one JSON object per test) and, optionally, the
output of scripts/hardening. For each meson test it counts, in this order of
preference, what the test's own output says:

  cmocka   "[  PASSED  ] N test(s)."  /  "[  FAILED  ] N test(s), listed below:"
           (and "[  SKIPPED ] N test(s), ..."), summed over every group run;
  pytest   the closing "N passed, M failed, K skipped in 1.2s" line;
  plain    the last "N passed, M failed[, K skipped]" line;

else the meson test itself counts as one case, by its result. A test that
meson judged failed (crash, timeout, non-zero exit) counts at least one
failure even when its output reported none. The hardening script's closing
"hardening: N passed, M failed" line is added the same way, and so is each
further step given with --step NAME LOG RC (its "NAME: N passed, M failed[,
K skipped]" line; exit status 77 without one counts as one skipped case).

Prints a per-source breakdown, then `N passed, M failed` as the very last
line. Exit status: 0 only when nothing failed and at least one case ran.
Standard library only.
"""

import argparse
import json
import re
import sys

CMOCKA_PASSED = re.compile(r"^\[  PASSED  \] (\d+) test\(s\)\.", re.M)
CMOCKA_FAILED = re.compile(r"^\[  FAILED  \] (\d+) test\(s\), listed below:",
                           re.M)
CMOCKA_SKIPPED = re.compile(r"^\[  SKIPPED \] (\d+) test\(s\), listed below:",
                            re.M)
# pytest's closing line, with or without the "=====" frame (-q drops it):
# "==== 3 failed, 10 passed, 1 skipped, 2 warnings in 4.56s (0:00:04) ===="
PYTEST_LINE = re.compile(
    r"^=*\s*((?:\d+ [a-z]+(?:, )?)+) in [\d.]+s(?: \([\d:]+\))?\s*=*\s*$",
    re.M)
PYTEST_ITEM = re.compile(r"(\d+) ([a-z]+)")
PLAIN_LINE = re.compile(
    r"^(?:[\w.-]+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$",
    re.M)

# meson's results (mtest.TestResult values)
MESON_PASS = {"OK", "EXPECTEDFAIL"}
MESON_SKIP = {"SKIP"}


def count_output(text):
    """(passed, failed, skipped, kind) from a test's output, or None."""
    passed = [int(n) for n in CMOCKA_PASSED.findall(text)]
    failed = [int(n) for n in CMOCKA_FAILED.findall(text)]
    skipped = [int(n) for n in CMOCKA_SKIPPED.findall(text)]
    if passed or failed:
        return sum(passed), sum(failed), sum(skipped), "cmocka"

    lines = PYTEST_LINE.findall(text)
    if lines:
        items = {}
        for num, word in PYTEST_ITEM.findall(lines[-1]):
            items[word] = items.get(word, 0) + int(num)
        return (items.get("passed", 0) + items.get("xfailed", 0),
                items.get("failed", 0) + items.get("error", 0)
                + items.get("errors", 0) + items.get("xpassed", 0),
                items.get("skipped", 0), "pytest")

    plain = PLAIN_LINE.findall(text)
    if plain:
        p, f, s = plain[-1]
        return int(p), int(f), int(s or 0), "plain"
    return None


def count_meson(path):
    """Yield (name, passed, failed, skipped, how) for each test in path."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            test = json.loads(line)
            result = test.get("result", "ERROR")
            text = (test.get("stdout") or "") + "\n" + (test.get("stderr")
                                                        or "")
            got = count_output(text)
            if result == "EXPECTEDFAIL" or got is None:
                if result in MESON_PASS:
                    got = (1, 0, 0, "meson " + result)
                elif result in MESON_SKIP:
                    got = (0, 0, 1, "meson " + result)
                else:
                    got = (0, 1, 0, "meson " + result)
            elif result not in MESON_PASS | MESON_SKIP and got[1] == 0:
                # Crashed after (or before) its summary, timed out, or exited
                # non-zero for a reason its own counts do not show.
                got = (got[0], 1, got[2], got[3] + ", meson " + result)
            yield (test.get("name", "?"),) + got


def count_step(name, path, rc):
    """(passed, failed, skipped, how) from the output of a step such as
    scripts/hardening, whose summary line starts with `name: `. Exit status
    77 is a skipped step (the automake convention)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        text = ""
    found = re.findall(r"^%s: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?"
                       % re.escape(name), text, re.M)
    skipped = 0
    if found:
        passed, failed, skipped = (int(n or 0) for n in found[-1])
        how = "its summary"
    elif rc == 77:
        passed, failed, skipped = 0, 0, 1
        how = "skipped (exit status 77)"
    else:
        passed, failed = (1, 0) if rc == 0 else (0, 1)
        how = "exit status %d (no summary line)" % rc
    if rc not in (0, 77) and failed == 0:
        failed = 1
        how += ", exit status %d" % rc
    return passed, failed, skipped, how


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--testlog", help="meson's meson-logs/testlog.json")
    ap.add_argument("--hardening-log", help="output of scripts/hardening")
    ap.add_argument("--hardening-rc", type=int, default=0)
    ap.add_argument("--meson-rc", type=int, default=0,
                    help="exit status of meson test")
    ap.add_argument("--step", nargs=3, action="append", default=[],
                    metavar=("NAME", "LOG", "RC"),
                    help="another step's output and exit status")
    args = ap.parse_args()

    total = [0, 0, 0]
    bad_steps = []

    print("---- test summary " + "-" * 50)
    if args.testlog:
        try:
            rows = list(count_meson(args.testlog))
        except (OSError, ValueError) as err:
            rows = []
            bad_steps.append("cannot read %s: %s" % (args.testlog, err))
            total[1] += 1
        for name, p, f, s, how in rows:
            mark = "FAIL" if f else "ok  "
            print("%s %-40s %5d passed %4d failed %4d skipped  (%s)"
                  % (mark, name, p, f, s, how))
            total[0] += p
            total[1] += f
            total[2] += s
        if args.meson_rc != 0 and total[1] == 0:
            # e.g. a rebuild failed, or meson itself stopped
            bad_steps.append("meson test exited %d" % args.meson_rc)
            total[1] += 1
    steps = [("hardening", args.hardening_log, args.hardening_rc)]
    steps += [(name, log, int(rc)) for name, log, rc in args.step]
    for name, log, rc in steps:
        if log is None:
            continue
        p, f, s, how = count_step(name, log, rc)
        mark = "FAIL" if f else "ok  "
        print("%s %-40s %5d passed %4d failed %4d skipped  (%s)"
              % (mark, "scripts/" + name, p, f, s, how))
        total[0] += p
        total[1] += f
        total[2] += s
    for step in bad_steps:
        print("error: " + step)
    if total[0] + total[1] == 0:
        print("error: no test ran")
    if total[2]:
        print("%d skipped" % total[2])
    print("%d passed, %d failed" % (total[0], total[1]))
    sys.stdout.flush()
    ok = total[1] == 0 and total[0] > 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
