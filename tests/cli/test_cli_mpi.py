# SPDX-License-Identifier: MIT
"""End-to-end tests of `nnet-mpi train --mpi` (meson suite 'mpi', registered
when nnet-mpi is built: Meson found MPI).

Usage: test_cli_mpi.py NN_PROGRAM RUN_MPI MPIRUN TEST_NAME

Every run goes through tests/mpi/run-mpi.sh (RUN_MPI), which bounds it by
a timeout, so a rank left waiting fails the test instead of hanging it.
Standard library only.
"""
import csv
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mkdata  # noqa: E402
from harness import Failure, check, registry  # noqa: E402

NN = RUN_MPI = MPIRUN = None  # from argv
WORK = None                   # this test's temporary directory
LIMIT = 120                   # seconds for one mpirun, in run-mpi.sh
TESTS, test = registry()


def mpi_command(np, *args):
    return [RUN_MPI, MPIRUN, str(np), str(LIMIT), NN, *map(str, args)]


def mpi(np, *args, rc=0):
    """`mpirun -np NP nn ARGS` in WORK; checks the exit status (None: any
    but 0)."""
    p = subprocess.run(mpi_command(np, *args), cwd=WORK, capture_output=True,
                       text=True, timeout=LIMIT + 30)
    ok = p.returncode != 0 if rc is None else p.returncode == rc
    check(ok, "mpirun -np %d nn %s: exit status %d, expected %s\nstdout:\n"
          "%s\nstderr:\n%s" % (np, " ".join(map(str, args)), p.returncode,
                               "non-zero" if rc is None else rc, p.stdout,
                               p.stderr))
    return p


def nn(*args):
    """nn in one process, no MPI."""
    p = subprocess.run([NN, *map(str, args)], cwd=WORK, capture_output=True,
                       text=True, timeout=300)
    check(p.returncode == 0, "nn %s: %s" % (" ".join(args), p.stderr))
    return p.stdout


def accuracy(model, data):
    m = re.search(r"^accuracy\s+([\d.]+)", nn("eval", model, data), re.M)
    check(m, "no accuracy from nnet eval")
    return float(m.group(1))


def messages(p):
    """The tool's own lines (mpirun adds its own about failed ranks)."""
    return [line for line in (p.stdout + p.stderr).splitlines()
            if line.startswith("nnet")]


def files():
    return sorted(p.name for p in WORK.iterdir())


def write_blobs(n, name="blobs.csv"):
    rows, labels = mkdata.blobs(n, seed=3, spread=1.5)
    mkdata.write_csv(WORK / name, rows, labels,
                     header=["a", "b", "c", "d", "species"])


TRAIN = ["train", "blobs.csv", "--layers", "4,16,3", "--lr", "0.01"]


@test
def test_np2():
    """Two ranks: one model, rank 0's output only, as good as one process."""
    write_blobs(300)
    p = mpi(2, *TRAIN, "--epochs", "20", "--val-split", "0.2", "--mpi",
            "-o", "m.nn", "--log", "l.csv", "--plot", "p.svg")
    out = p.stdout.splitlines()
    check(out[0] == "classification, 3 classes: 0, 1, 2" and
          len([x for x in out if x.startswith("training ")]) == 1 and
          "over 2 MPI ranks" in out[1], "one start line:\n" + p.stdout)
    check(len([x for x in out if x.startswith("epoch ")]) == 20,
          "20 epoch lines, from rank 0 only:\n" + p.stdout)
    check(len([x for x in out if "model written to m.nn" in x]) == 1,
          p.stdout)
    check(messages(p) == [], "no messages:\n%s" % p.stderr)
    check(files() == ["blobs.csv", "l.csv", "m.nn", "p.svg"],
          "exactly one model, log and plot: %s" % files())
    with open(WORK / "l.csv") as f:
        log = list(csv.DictReader(f))
    check(len(log) == 20, "20 rows of log")
    check(all(0 <= float(r["train_accuracy"]) <= 1 and
              0 <= float(r["val_accuracy"]) <= 1 for r in log),
          "training and validation accuracy in every row of the log")
    nn(*TRAIN, "--epochs", "20", "--val-split", "0.2", "-q", "-o", "one.nn")
    a_mpi, a_one = accuracy("m.nn", "blobs.csv"), accuracy("one.nn",
                                                            "blobs.csv")
    check(a_mpi >= 0.9 and abs(a_mpi - a_one) <= 0.05,
          "accuracy %.4f with 2 ranks, %.4f in one process" % (a_mpi, a_one))


@test
def test_np3_uneven():
    """Three ranks, rows that do not divide by 3 in either part."""
    write_blobs(301)  # 271 training rows, 30 validation
    mpi(3, *TRAIN, "--epochs", "15", "--batch", "16", "--val-split", "0.1",
        "--mpi", "-q", "-o", "m.nn")
    check(files() == ["blobs.csv", "m.nn"], "one model: %s" % files())
    a = accuracy("m.nn", "blobs.csv")
    check(a >= 0.9, "accuracy %.4f with 3 ranks" % a)


@test
def test_bad_input():
    """A bad file fails every rank: one message, no model, no hang. An
    output directory that only rank 0 checks stops the others too."""
    with open(WORK / "bad.csv", "w") as f:
        f.write("a,b,c,d,s\n1,2,3,4,0\n1,2,abc,4,1\n")
    p = mpi(2, "train", "bad.csv", "--layers", "4,3", "--mpi", "-o", "m.nn",
            rc=None)
    check(messages(p) == ["nnet-mpi: bad.csv:3:3: 'abc' is not a number"],
          "one message:\n%s%s" % (p.stdout, p.stderr))
    write_blobs(30)
    p = mpi(3, *TRAIN, "--mpi", "-o", "missing/m.nn", rc=None)
    check(len(messages(p)) == 1 and
          messages(p)[0].startswith("nnet-mpi: -o missing/m.nn: cannot write"),
          "one message:\n%s%s" % (p.stdout, p.stderr))
    check(files() == ["bad.csv", "blobs.csv"], "nothing written: %s" %
          files())


@test
def test_schedule():
    """A cosine schedule under --mpi: the same learning rate each epoch as
    in one process, in the log and the model ("epochs trained")."""
    write_blobs(200)
    args = [*TRAIN, "--epochs", "6", "--schedule", "cosine", "--t-max", "4",
            "--val-split", "0.2", "-q"]
    mpi(2, *args, "--mpi", "-o", "m.nn", "--log", "m.csv")
    nn(*args, "-o", "one.nn", "--log", "one.csv")
    rates = {}
    for name in ("m", "one"):
        with open(WORK / (name + ".csv")) as f:
            rates[name] = [float(r["learning_rate"])
                           for r in csv.DictReader(f)]
    check(rates["m"] == rates["one"] and len(rates["m"]) == 6 and
          rates["m"][0] == 0.01 and rates["m"][4] == 0.0,
          "learning rates %s under MPI, %s in one process"
          % (rates["m"], rates["one"]))
    info = nn("info", "m.nn")
    check(re.search(r"^epochs trained\s+6$", info, re.M),
          "6 epochs in the model:\n" + info)


def mpirun_pid(root):
    """The mpirun process started (through run-mpi.sh and timeout) by
    process `root`."""
    parents = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except (OSError, ValueError):
            continue
        # "pid (comm) state ppid ...": comm may hold spaces
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        parents[int(d.name)] = (int(stat[stat.rindex(")") + 2:].split()[1]),
                                comm)
    found = [pid for pid, (_, comm) in parents.items()
             if comm in ("mpirun", "orterun", "mpiexec")]
    for pid in found:
        p = pid
        while p in parents and p != root:
            p = parents[p][0]
        if p == root:
            return pid
    raise Failure("no mpirun under process %d" % root)


@test
def test_interrupt():
    """SIGUSR1 to mpirun (which forwards it to every rank) stops training;
    the model is still written and every rank exits with 130."""
    rows, labels = mkdata.blobs(3000, seed=8, spread=3.0)
    mkdata.write_csv(WORK / "big.csv", rows, labels)
    proc = subprocess.Popen(
        mpi_command(2, "train", "big.csv", "--layers", "4,64,64,3",
                    "--epochs", "100000", "--batch", "16", "--mpi",
                    "-o", "m.nn"),
        cwd=WORK, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = 0
    while seen < 2:  # let two epochs finish
        line = proc.stdout.readline()
        if not line:
            raise Failure("training ended early: %s" % proc.stderr.read())
        seen += line.startswith("epoch")
    os.kill(mpirun_pid(proc.pid), signal.SIGUSR1)
    out, err = proc.communicate(timeout=LIMIT + 30)
    check(proc.returncode == 130, "exit status %d after SIGUSR1, stderr %s" %
          (proc.returncode, err))
    check(len(re.findall(r"^interrupted in epoch \d+, step \d+ of \d+$", out,
                         re.M)) == 1, out)
    check("model written to m.nn" in out, out)
    check(files() == ["big.csv", "m.nn"], "one model: %s" % files())
    check(accuracy("m.nn", "big.csv") > 0.5, "a trained model")


def main():
    global NN, RUN_MPI, MPIRUN, WORK
    if sys.argv[1:] == ["--list"]:
        print("\n".join(TESTS))
        return
    if len(sys.argv) != 5 or sys.argv[4] not in TESTS:
        sys.exit("usage: test_cli_mpi.py NN_PROGRAM RUN_MPI MPIRUN TEST "
                 "(one of: %s)" % ", ".join(TESTS))
    NN, RUN_MPI, MPIRUN = (os.path.abspath(a) for a in sys.argv[1:4])
    with tempfile.TemporaryDirectory(prefix="nn-cli-mpi-") as tmp:
        WORK = Path(tmp)
        try:
            start = time.monotonic()
            TESTS[sys.argv[4]]()
        except Failure as e:
            print("FAIL: %s" % e, file=sys.stderr)
            sys.exit(1)
    print("ok: %s (%.1fs)" % (sys.argv[4], time.monotonic() - start))


if __name__ == "__main__":
    main()
