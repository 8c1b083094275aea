#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Clock-free performance guard: callgrind instruction counts of libnn's hot
calls (bench/callgrind_step.c) against a baseline of the backend built:
bench/callgrind_baseline.txt (CBLAS) or bench/callgrind_baseline_dnnl.txt.

Fails when a case costs more than LIMIT (1.25) times its recorded count.
Instruction counts do not depend on the machine's load, so this catches a
change that makes a step much costlier on a noisy CI machine where timings
cannot. The counts include the backend's products on one thread, with
fixed kernels so that they do not depend on the CPU: OpenBLAS's
Sandybridge kernels (OPENBLAS_CORETYPE), oneDNN's AVX ones
(ONEDNN_MAX_CPU_ISA).

    callgrind_check.py --valgrind V --program P --baseline B   # check
    callgrind_check.py ... --update                            # re-record
"""
import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile

LIMIT = 1.25
# OpenBLAS's Sandybridge kernels (AVX, no FMA): valgrind runs FMA through a
# software helper, which makes the Haswell kernels ~1000x slower under it.
# Any fixed kernel does for a guard; this one keeps the run short.
CORETYPE = "Sandybridge"
# oneDNN's kernels of the same ISA (AVX, no FMA), for the same reason.
ONEDNN_ISA = "AVX"


def count(valgrind, program, case):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", OPENBLAS_CORETYPE=CORETYPE,
                   ONEDNN_MAX_CPU_ISA=ONEDNN_ISA)
        # meson test sets MALLOC_PERTURB_, which makes malloc fill every
        # block: instructions that a recording without it did not count.
        env.pop("MALLOC_PERTURB_", None)
        proc = subprocess.run(
            [valgrind, "--tool=callgrind", "--instr-atstart=no",
             "--collect-atstart=no",
             "--callgrind-out-file=" + out, program, case],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, check=False)
        if proc.returncode != 0:
            sys.exit("callgrind_check: %s %s failed:\n%s"
                     % (program, case, proc.stderr))
        found = {}
        with open(out) as f:
            for line in f:
                m = re.match(r"(totals|summary):\s+(\d+)", line)
                if m:
                    found[m.group(1)] = int(m.group(2))
        # "summary" is 0 when instrumentation starts late; "totals" counts
        if found:
            return found.get("totals", found.get("summary"))
    sys.exit("callgrind_check: no totals for case %s" % case)


def read_baseline(path):
    base = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) >= 2:
                base[line[0]] = int(line[1])
    return base


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--valgrind", default="valgrind")
    ap.add_argument("--program", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--update", action="store_true",
                    help="record the current counts as the baseline")
    args = ap.parse_args()

    cases = subprocess.run([args.program, "--list"], stdout=subprocess.PIPE,
                           text=True, check=True).stdout.splitlines()
    cases = [c.split("\t") for c in cases if c.strip()]
    counts = {name: count(args.valgrind, args.program, name)
              for name, _ in cases}

    if args.update:
        with open(args.baseline, "w") as f:
            vg = subprocess.run([args.valgrind, "--version"],
                                stdout=subprocess.PIPE, text=True,
                                check=False).stdout.strip()
            f.write("# callgrind instruction counts (Ir) of the cases of\n"
                    "# bench/callgrind_step.c; bench/callgrind_check.py "
                    "fails when a case\n# exceeds %.2fx its count here. "
                    "Re-record with --update after a\n# deliberate change "
                    "(and say why in the commit).\n"
                    "# Recorded on %s with %s, OpenBLAS kernels %s,\n"
                    "# oneDNN kernels at most %s.\n"
                    % (LIMIT, platform.platform(), vg, CORETYPE, ONEDNN_ISA))
            for name, what in cases:
                f.write("%-12s %12d  # %s\n" % (name, counts[name], what))
        print("recorded %d cases in %s" % (len(cases), args.baseline))
        return 0

    base = read_baseline(args.baseline)
    failed = 0
    print("%-12s %14s %14s %7s" % ("case", "baseline Ir", "now Ir", "ratio"))
    for name, what in cases:
        now = counts[name]
        ref = base.get(name)
        if ref is None:
            print("%-12s %14s %14d %7s  (no baseline)" % (name, "-", now, "-"))
            continue
        ratio = now / ref
        verdict = ""
        if ratio > LIMIT:
            verdict = "  FAIL: more than %.2fx the baseline" % LIMIT
            failed += 1
        elif ratio < 0.8:
            verdict = "  (cheaper: consider --update)"
        print("%-12s %14d %14d %7.3f%s" % (name, ref, now, ratio, verdict))
    if failed:
        print("%d case(s) regressed; profile with valgrind --tool=callgrind "
              "%s CASE" % (failed, args.program))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
