# SPDX-License-Identifier: MIT
"""End-to-end tests of the `nnet` command-line tool (meson suite 'cli').

Usage: test_cli.py NN_PROGRAM TEST_NAME

Each test builds its own small data files in a fresh temporary directory,
runs the tool as a user would, and checks exit statuses, messages, and the
files left behind. Standard library only.
"""
import csv
import gzip
import os
import pty
import random
import re
import select
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import mkdata  # noqa: E402
from harness import Failure, check, registry  # noqa: E402

NN = None     # the program under test, from argv
WORK = None   # this test's temporary directory

TESTS, test = registry()


def run(*args, rc=0, timeout=300, **kw):
    """Runs nn with `args` in WORK; checks the exit status."""
    p = subprocess.run([NN, *map(str, args)], cwd=WORK, capture_output=True,
                       text=True, timeout=timeout, **kw)
    if rc is not None and p.returncode != rc:
        raise Failure("nn %s: exit status %d, expected %d\nstdout:\n%s\n"
                      "stderr:\n%s" % (" ".join(map(str, args)),
                                       p.returncode, rc, p.stdout, p.stderr))
    return p


def field(text, key):
    """The value of a 'key  value' line of eval or info output."""
    m = re.search(r"^%s\s+(.*)$" % re.escape(key), text, re.M)
    check(m, "no '%s' line in:\n%s" % (key, text))
    return m.group(1).strip()


def no_leftovers(*names):
    """No named output and no temporary file of any output in WORK."""
    for name in names:
        check(not (WORK / name).exists(), "%s was written" % name)
    tmp = [p.name for p in WORK.iterdir() if ".tmp" in p.name]
    check(not tmp, "temporary files left behind: %s" % tmp)


def write_blobs(name="blobs.csv", n=300, seed=1, header=True, **kw):
    rows, labels = mkdata.blobs(n, seed, **kw)
    mkdata.write_csv(WORK / name, rows, labels,
                     header=["a", "b", "c", "d", "species"] if header
                     else None)
    return rows, labels


# ---- help, version, usage ----

@test
def test_help():
    out = run("--help").stdout
    for cmd in ("train", "eval", "predict", "info"):
        check(cmd in out, "nn --help does not list %s" % cmd)
        sub = run(cmd, "--help").stdout
        check(sub.startswith("Usage: nnet %s" % cmd), "nn %s --help" % cmd)
    check("--val-split" in run("train", "--help").stdout, "train options")
    check(run("help", "eval").stdout.startswith("Usage: nnet eval"),
          "nnet help eval")
    v = run("--version").stdout.splitlines()
    check(re.match(r"nnet \d+\.\d+\.\d+ \(libnn \d+\.\d+\.\d+\)$", v[0]),
          "nnet --version: %r" % v)
    # then nn_build_info: the backend and its threads
    info = dict(line.split(": ", 1) for line in v[1:])
    check(info.get("libnn") == v[0].split("libnn ")[1].rstrip(")"),
          "nnet --version: %r" % v)
    check(re.match(r"(oneDNN \d|CBLAS)", info.get("backend", "")),
          "nnet --version: no backend in %r" % v)
    check(re.match(r"\d+$", info.get("threads", "")),
          "nnet --version: no thread count in %r" % v)


@test
def test_usage_errors():
    cases = [
        ([], None),
        (["frobnicate"], "'frobnicate' is not a command"),
        (["train"], "DATA is missing"),
        (["train", "x.csv", "--layers", "4,3", "--hidden", "8", "-o",
          "m.nn"], "--layers gives every layer, --hidden the hidden ones"),
        (["train", "x.csv", "--layers", "4,3"], "-o MODEL is required"),
        (["train", "x.csv", "--layers", "4,,3", "-o", "m.nn"],
         "--layers: '4,,3' is not a comma-separated list of sizes"),
        (["train", "x.csv", "--layers", "4,3", "-o", "m.nn", "--epochs",
          "abc"], "--epochs: 'abc' is not an integer"),
        (["train", "x.csv", "--layers", "4,3", "-o", "m.nn", "--epochs",
          "-3"], "--epochs: '-3' is not an integer"),
        (["train", "x.csv", "--layers", "4,3", "-o", "m.nn", "--lr", "fast"],
         "--lr: 'fast' is not a number"),
        (["train", "x.csv", "--layers", "4,3", "-o", "m.nn", "--optimizer",
          "lbfgs"], "--optimizer: 'lbfgs' is not one of: sgd, momentum"),
        (["train", "x.csv", "--layers", "4,3", "-o", "m.nn", "--frob"],
         "unknown option '--frob'"),
        (["train", "x.csv", "--layers", "4,3", "-o", "m.nn", "--early-stop",
          "3"], "--early-stop needs validation data"),
        (["train", "x.csv", "-o", "m.nn", "--na", "maybe"],
         "--na: 'maybe' is not one of: error, drop"),
        (["train", "x.csv", "-o", "m.nn", "--delimiter", "ab"],
         "--delimiter: 'ab' is not one character (or 'tab')"),
        (["train", "x.csv", "--layers", "4,3", "-o", "m.nn", "--val-split",
          "1.5"], "--val-split: 1.5 is out of range"),
        (["eval", "m.nn"], "MODEL and DATA are needed"),
        (["predict", "m.nn", "a", "b"], "too many arguments"),
        (["info"], "MODEL is missing"),
        (["train", "x.csv", "--layers"], "option '--layers' needs a value"),
        # MPI training is nnet-mpi's; nnet never links MPI
        (["train", "x.csv", "--layers", "4,3", "-o", "m.nn", "--mpi"],
         "--mpi: nnet does not link MPI; run nnet-mpi under mpirun"),
    ]
    for args, message in cases:
        p = run(*args, rc=2)
        check(not p.stdout, "usage error printed to stdout: %r" % p.stdout)
        if message:
            lines = p.stderr.splitlines()
            check(message in lines[0], "nn %s: expected '%s', got:\n%s" %
                  (" ".join(args), message, p.stderr))
            check(len(lines) == 2 and lines[1].startswith("Try 'nnet"),
                  "one message and a --help hint: %r" % p.stderr)


@test
def test_messages():
    """Messages say what is wrong, in the right number."""
    write_blobs()
    base = ["train", "blobs.csv", "--layers", "4,8,3", "-o", "m.nn", "-q"]
    for args, message in [
            (["--epochs", "18446744073709551615"],
             "--epochs: 18446744073709551615 is out of range 1..2147483648"),
            (["--epochs", "0"], "--epochs: 0 is out of range 1..2147483648"),
            (["--seed", "18446744073709551616"],
             "--seed: 18446744073709551616 is out of range "
             "0..18446744073709551615"),
            (["--lr", "1e-320"], "--lr: 1e-320 is out of range (nearer to 0 "
             "than 2.22507e-308)"),
            (["--lr", "1e309"], "--lr: 1e309 is out of range (its magnitude "
             "is beyond 1.79769e+308)"),
            (["--lr", "inf"], "--lr: inf is not finite"),
            (["--lr", "nan"], "--lr: nan is not finite"),
            (["--activation", "swish"], "--activation: 'swish' is not one "
             "of: identity, sigmoid, tanh, relu, leaky_relu")]:
        p = run(*base, *args, rc=2)
        check(p.stderr.splitlines()[0] == "nnet train: " + message,
              "%s: %r" % (args, p.stderr))
    # blanks around sizes: both sides alike
    run("train", "blobs.csv", "--layers", "4,8,3", "-o", "a.nn", "-q")
    run("train", "blobs.csv", "--layers", " 4, 8 ,3 ", "-o", "b.nn", "-q")
    check((WORK / "a.nn").read_bytes() == (WORK / "b.nn").read_bytes(),
          "' 4, 8 ,3 ' is 4,8,3")
    # one sample, one column
    (WORK / "one.csv").write_text("a,b,c,d,y\n1,2,3,4,0\n")
    p = run("train", "one.csv", "--layers", "4,8,3", "-o", "one.nn")
    check(p.stdout.splitlines()[1] == "training 4-8-3 (classifier, 67 "
          "parameters) on 1 sample of one.csv", p.stdout)
    p = run("eval", "one.nn", "one.csv")
    check(field(p.stdout, "data") == "one.csv (1 sample)", p.stdout)
    (WORK / "col.csv").write_text("1\n2\n")
    p = run("train", "col.csv", "--layers", "1,2", "-o", "c.nn", rc=1)
    check(p.stderr.strip() == "nnet: col.csv: 1 column, but --layers asks "
          "for 1 input plus a label column (or give --labels FILE)", p.stderr)
    # a huge loss in %g style, not 39 digits
    (WORK / "big.csv").write_text("a,b,y\n" + "1,2,1e18\n" * 8)
    p = run("train", "big.csv", "--layers", "2,1", "--task", "regress",
            "--optimizer", "sgd", "--lr", "1e-30", "--epochs", "1",
            "--no-standardize", "-o", "big.nn")
    check(re.search(r"^epoch 1/1  loss \d(\.\d+)?e\+3[56]  ", p.stdout, re.M)
          and not re.search(r"\d{12}", p.stdout), p.stdout)
    # info on a FIFO: the model's size, not the FIFO's 0 bytes
    os.mkfifo(WORK / "pipe")
    writer = threading.Thread(target=lambda: (WORK / "pipe").write_bytes(
        (WORK / "a.nn").read_bytes()))
    writer.start()
    p = run("info", "pipe", timeout=60)
    writer.join(60)
    check(field(p.stdout, "file") == "pipe (%d bytes)" %
          len((WORK / "a.nn").read_bytes()), p.stdout)


@test
def test_bad_setting_values():
    """Values libnn rejects are usage errors that name the option."""
    write_blobs()
    base = ["train", "blobs.csv", "--layers", "4,8,3", "-o", "m.nn"]
    for opt, value, message in [
            ("--dropout", "1.5", "--dropout: dropout 1.5 must be in [0, 1)"),
            ("--lr", "0", "--lr:"), ("--gamma", "2", "--gamma:"),
            ("--momentum", "1", "--momentum:"),
            ("--activation", "softmax", "softmax is only for the output"),
            ("--activation", "relu,tanh,relu", "one per hidden layer (1)"),
            ("--activation", "swish", "'swish' is not one of")]:
        p = run(*base, opt, value, rc=2)
        check(message in p.stderr, "%s %s: %r" % (opt, value, p.stderr))
        no_leftovers("m.nn")


# ---- round trips ----

@test
def test_csv_classify_roundtrip():
    rows, labels = write_blobs(offset=1000.0)  # needs the saved transform
    p = run("train", "blobs.csv", "--layers", "4,16,3", "--epochs", "40",
            "--lr", "0.01", "--val-split", "0.2", "--seed", "3", "-o",
            "m.nn")
    check("training 4-16-3 (classifier" in p.stdout, p.stdout)
    check(len(re.findall(r"^epoch +\d+/40 ", p.stdout, re.M)) == 40,
          "one line per epoch:\n" + p.stdout)
    check("model written to m.nn" in p.stdout, p.stdout)

    out = run("eval", "m.nn", "blobs.csv").stdout
    acc = float(field(out, "accuracy").split()[0])
    check(acc >= 0.9, "accuracy %.3f < 0.9\n%s" % (acc, out))
    check(re.search(r"^class\s+precision\s+recall\s+support$", out, re.M),
          out)
    check("confusion matrix" in out, out)
    cm = re.findall(r"^\s*(\d)((?:\s+\d+){3})$", out, re.M)
    check(len(cm) == 3, "3 confusion rows:\n" + out)
    check(sum(sum(map(int, r[1].split())) for r in cm) == 300,
          "the confusion matrix counts every sample")

    run("predict", "m.nn", "blobs.csv", "-o", "pred.csv")
    with open(WORK / "pred.csv") as f:
        pred = list(csv.reader(f))
    check(pred[0] == ["class", "p_0", "p_1", "p_2"], "header %s" % pred[0])
    check(len(pred) == 301, "%d prediction rows" % (len(pred) - 1))
    right = 0
    for row, label in zip(pred[1:], labels):
        probs = [float(v) for v in row[1:]]
        check(abs(sum(probs) - 1) < 1e-4, "probabilities sum to 1: %s" % row)
        check(int(row[0]) == probs.index(max(probs)), "class is arg-max")
        right += int(row[0]) == label
    check(right / 300 == acc, "predict and eval agree (%d vs %.4f)" %
          (right, acc))

    # stdout and a CSV without the label column give the same predictions
    mkdata.write_csv(WORK / "x.csv", rows, header=["a", "b", "c", "d"])
    check(run("predict", "m.nn", "x.csv").stdout.splitlines() ==
          (WORK / "pred.csv").read_text().splitlines(), "predict to stdout")

    info = run("info", "m.nn").stdout
    check(field(info, "layers") == "4-16-3", info)
    check(field(info, "activations") == "relu, softmax", info)
    check(field(info, "parameters") == str(4 * 16 + 16 + 16 * 3 + 3), info)
    check(field(info, "task") == "classification", info)
    check(field(info, "input transform").startswith("yes"), info)
    check(int(field(info, "epochs trained")) == 40, info)
    check(field(info, "optimizer").startswith("adam"), info)


@test
def test_csv_regress_roundtrip():
    rows, ys = mkdata.linear(400)
    mkdata.write_csv(WORK / "lin.csv", rows, ys)  # no header
    p = run("train", "lin.csv", "--layers", "2,16,1", "--epochs", "60",
            "--lr", "0.01", "--schedule", "step", "--step-size", "30",
            "--gamma", "0.5", "-o", "r.nn")
    check("(regression" in p.stdout, p.stdout)
    check(" acc " not in p.stdout, "no accuracy for regression")
    out = run("eval", "r.nn", "lin.csv").stdout
    check("accuracy" not in out, out)
    m = re.search(r"^\s+0\s+(\S+)\s+(\S+)\s+(\S+)$", out, re.M)
    check(m and float(m.group(3)) > 0.99, "R^2 > 0.99:\n" + out)
    pred = run("predict", "r.nn", "lin.csv").stdout.splitlines()
    check(pred[0] == "y" and len(pred) == 401, "regression CSV")
    err = sum(abs(float(v) - y) for v, y in zip(pred[1:], ys)) / len(ys)
    check(err < 0.3, "mean absolute error %.3f" % err)
    info = run("info", "r.nn").stdout
    check(field(info, "task") == "regression", info)
    check(field(info, "activations") == "relu, identity", info)
    check(field(info, "schedule").startswith("step (every 30 epochs"), info)


@test
def test_predict_batch_invariant():
    """nnet predict gives each row the same bits alone as in the whole
    file (nn.h, "Batch invariance"): %.9g prints a float exactly."""
    rows, ys = mkdata.linear(300)
    mkdata.write_csv(WORK / "lin.csv", rows, ys)
    run("train", "lin.csv", "--layers", "2,37,19,1", "--epochs", "5",
        "-q", "-o", "inv.nn")
    whole = run("predict", "inv.nn", "lin.csv").stdout.splitlines()
    check(len(whole) == 301, "%d lines" % len(whole))
    for i in range(0, 300, 7):
        mkdata.write_csv(WORK / "one.csv", rows[i:i + 3], ys[i:i + 3])
        part = run("predict", "inv.nn", "one.csv").stdout.splitlines()
        check(part[1:] == whole[1 + i:1 + i + len(part) - 1],
              "rows %d.. alone: %s, in the file: %s" %
              (i, part[1:], whole[1 + i:4 + i]))


@test
def test_csv_label_column():
    """--label by name and by index; a label column first; a gzipped CSV."""
    rows, labels = mkdata.blobs(150)
    mkdata.write_csv(WORK / "first.csv", rows, labels, label_first=True,
                     header=["kind", "a", "b", "c", "d"])
    for spec in ("kind", "0"):
        run("train", "first.csv", "--label", spec, "--layers", "4,8,3",
            "--epochs", "30", "--lr", "0.02", "-o", "m.nn", "-q")
        out = run("eval", "m.nn", "first.csv", "--label", spec).stdout
        check(float(field(out, "accuracy").split()[0]) >= 0.9, out)
    p = run("train", "first.csv", "--label", "species", "--layers", "4,3",
            "-o", "m2.nn", rc=2)
    check("--label species: first.csv has no column of that name" in
          p.stderr, p.stderr)
    data = (WORK / "first.csv").read_bytes()
    (WORK / "first.csv.gz").write_bytes(gzip.compress(data))
    run("train", "first.csv.gz", "--label", "0", "--layers", "4,3", "-o",
        "gz.nn", "-q")
    check((WORK / "gz.nn").exists(), "trained from a gzipped CSV")


@test
def test_csv_dialect():
    """Comments, blank lines, CRLF, quotes and spaces are accepted."""
    text = ('# a comment\r\n"x","y","label"\r\n\r\n'
            + "".join(' %d , "%d" ,%d\r\n' % (i % 2 * 4, i % 3, i % 2)
                      for i in range(40)))
    (WORK / "d.csv").write_text(text)
    run("train", "d.csv", "--layers", "2,2", "--epochs", "50", "--lr",
        "0.05", "-o", "m.nn", "-q")
    out = run("eval", "m.nn", "d.csv").stdout
    check(field(out, "data") == "d.csv (40 samples)", out)
    check(float(field(out, "accuracy").split()[0]) == 1.0, out)
    # forcing --no-header makes the quoted names data: a clear error
    p = run("train", "d.csv", "--no-header", "--layers", "2,2", "-o",
            "n.nn", rc=1)
    check(p.stderr.strip() == "nnet: d.csv:2:1: 'x' is not a number",
          p.stderr)


@test
def test_csv_streaming():
    """CSV is parsed as it decompresses, 64 KiB at a time: lines that
    straddle chunks (CRLF split between two of them too), lines longer than
    a chunk, and a last line without a newline read as the same floats as
    the same table in .npy, so training on either writes the same model,
    byte for byte; a NUL byte far into a file still marks it binary."""
    rng = random.Random(11)
    width, rows = 24000, 6  # each line is over 64 KiB
    wide = [[rng.randrange(-999, 1000) / 8 for _ in range(width)]
            for _ in range(rows)]
    labels = [i % 2 for i in range(rows)]
    narrow = [[rng.randrange(-999, 1000) / 8 for _ in range(5)]
              for _ in range(9000)]
    narrow_labels = [rng.randrange(3) for _ in narrow]

    def text(table, labs, eol):
        lines = ["# comment", " "] + [
            ",".join(["%g" % v for v in row] + ["%d" % lab])
            for row, lab in zip(table, labs)]
        return eol.join(lines)  # no newline after the last line

    cases = (("wide", wide, labels, "\n", "%d,2" % width),
             ("narrow", narrow, narrow_labels, "\r\n", "5,3"))
    for name, table, labs, eol, layers in cases:
        body = text(table, labs, eol).encode()
        check(len(body) > 3 * 65536, "%s: %d bytes" % (name, len(body)))
        (WORK / (name + ".csv")).write_bytes(body)
        with gzip.open(WORK / (name + ".csv.gz"), "wb") as f:
            f.write(body)
        mkdata.write_npy(WORK / (name + ".npy"), mkdata.flat(table),
                         [len(table), len(table[0])])
        mkdata.write_npy(WORK / (name + "_y.npy"), labs, [len(labs)], "<i8")
        models = []
        for data in (name + ".csv", name + ".csv.gz"):
            run("train", data, "--layers", layers, "--epochs", "2",
                "--seed", "3", "-o", data + ".nn", "-q")
            models.append((WORK / (data + ".nn")).read_bytes())
        run("train", name + ".npy", "--labels", name + "_y.npy", "--layers",
            layers, "--epochs", "2", "--seed", "3", "-o", "npy.nn", "-q")
        models.append((WORK / "npy.nn").read_bytes())
        check(models[0] == models[1] == models[2],
              "%s: CSV, gzipped CSV and .npy train different models" % name)
        out = run("eval", name + ".csv.nn", name + ".csv").stdout
        check(field(out, "data") == "%s.csv (%d samples)"
              % (name, len(table)), out)
    # a cell error far into the file names its line
    lines = text(narrow, narrow_labels, "\n").split("\n")
    lines[8001] = lines[8001].replace(",", ",x", 1)
    bad_case({"late.csv": "\n".join(lines)}, ["train", "late.csv",
             "--layers", "5,3", "-o", "m.nn"], 1,
             "nnet: late.csv:8002:2: 'x%s' is not a number"
             % lines[8001].split(",x")[1].split(",")[0])
    # binary data after 200 KiB of good lines
    body = text(narrow, narrow_labels, "\n").encode()
    (WORK / "nul.csv").write_bytes(body[:200000] + b"\0" + body[200000:])
    p = run("train", "nul.csv", "--layers", "5,3", "-o", "m.nn", rc=1)
    check(p.stderr == "nnet: nul.csv: not a CSV, IDX or .npy file (it holds "
          "binary data that is none of these)\n", p.stderr)


@test
def test_csv_numbers():
    """Every way of writing a number reads as the float of its correctly
    rounded double, as strtod gives it: plain decimals of up to 15 digits
    take the tool's fast path, longer ones and exponents strtod. The same
    values as .npy (rounded by Python) train the same model, byte for byte
    (standardised, so that 1e14 and 1e-20 stay trainable). Standardising
    and training round away a last bit, so the bit-exact check of the fast
    path against strtod is the fuzz target's (fuzz-replay-data, with the
    near ties of corpus/data/numbers.csv)."""
    rng = random.Random(12)

    def plain():  # at most 15 digits, a point anywhere or none
        digits = "".join(rng.choice("0123456789")
                         for _ in range(rng.randint(1, 15)))
        cut = rng.randint(0, len(digits))
        text = rng.choice([digits, digits[:cut] + "." + digits[cut:]])
        return rng.choice(["", "-", "+"]) + text

    def long_digits():  # 16 to 25 digits: strtod
        digits = "".join(rng.choice("0123456789") for _ in range(25))
        return rng.choice(["", "-"]) + "0." + digits[:rng.randint(16, 25)]

    def exponent():
        return "%s%d.%de%s%d" % (rng.choice(["", "-"]), rng.randint(0, 9),
                                 rng.randint(0, 99999), rng.choice("+-"),
                                 rng.randint(0, 30))

    rows = [[plain(), "%d" % rng.randint(-999999, 999999), long_digits(),
             exponent()] for _ in range(2000)]
    rows[0][0], rows[1][0], rows[2][0] = "-0", "+.5", "7."
    labels = [rng.randrange(3) for _ in rows]
    (WORK / "n.csv").write_text("".join(",".join(row) + ",%d\n" % lab
                                        for row, lab in zip(rows, labels)))
    mkdata.write_npy(WORK / "n.npy", [float(v) for row in rows for v in row],
                     [len(rows), 4])
    mkdata.write_npy(WORK / "n_y.npy", labels, [len(labels)], "<i8")
    common = ["--layers", "4,8,3", "--epochs", "2", "--seed", "5", "-q"]
    run("train", "n.csv", "-o", "csv.nn", *common)
    run("train", "n.npy", "--labels", "n_y.npy", "-o", "npy.nn", *common)
    check((WORK / "csv.nn").read_bytes() == (WORK / "npy.nn").read_bytes(),
          "CSV and .npy of the same numbers train different models")


@test
def test_idx_roundtrip():
    rows, labels = mkdata.blobs(300, seed=4)
    pix = [min(255, max(0, int(20 * (v + 6)))) for v in mkdata.flat(rows)]
    mkdata.write_idx(WORK / "img.idx.gz", pix, [300, 2, 2], gz=True)
    mkdata.write_idx(WORK / "lab.idx", labels, [300])
    run("train", "img.idx.gz", "--labels", "lab.idx", "--layers", "4,16,3",
        "--epochs", "30", "--lr", "0.01", "-o", "m.nn", "-q")
    out = run("eval", "m.nn", "img.idx.gz", "--labels", "lab.idx").stdout
    check(float(field(out, "accuracy").split()[0]) >= 0.9, out)
    pred = run("predict", "m.nn", "img.idx.gz").stdout.splitlines()
    check(len(pred) == 301 and pred[0].startswith("class,"), "idx predict")
    # other IDX types: float32 inputs and int32 labels
    mkdata.write_idx(WORK / "f.idx", mkdata.flat(rows), [300, 4], "f32")
    mkdata.write_idx(WORK / "l32.idx", labels, [300], "i32")
    run("train", "f.idx", "--labels", "l32.idx", "--layers", "4,3", "-o",
        "f.nn", "-q")
    # IDX data needs --labels
    p = run("train", "img.idx.gz", "--layers", "4,3", "-o", "x.nn", rc=2)
    check("img.idx.gz is IDX data: give the targets with --labels FILE" in
          p.stderr, p.stderr)


@test
def test_peak_memory():
    """The memory bound on a whole training run: its peak resident
    set is at most the data (as the floats nn_train takes) + 3 x the
    parameters + 2 x one batch's activations + 16 MiB (24 MiB with oneDNN).
    It holds because the
    IDX reader converts values as they arrive: holding the file's bytes
    beside the floats would add a quarter of the data; so do the .npy and
    CSV readers (CSV text would add nearly as much as the floats). A header
    that promises far more values than the file holds allocates nothing for
    them."""
    rows, width, hidden, classes, batch = 20000, 784, 64, 10, 64
    rng = random.Random(7)
    pixels = rng.randbytes(rows * width)
    with gzip.open(WORK / "img.idx.gz", "wb", compresslevel=1) as f:
        f.write(mkdata.idx_bytes([], [rows, 28, 28]) + pixels)
    (WORK / "img.npy").write_bytes(
        mkdata.npy_bytes([], [rows, 28, 28], "|u1") + pixels)
    # the same matrix column after column, turned into rows in place
    (WORK / "imgf.npy").write_bytes(
        mkdata.npy_bytes([], [rows, width], "|u1", fortran=True)
        + b"".join(pixels[c::width] for c in range(width)))
    mkdata.write_idx(WORK / "lab.idx",
                     [b % classes for b in rng.randbytes(rows)], [rows])
    params = width * hidden + hidden + hidden * classes + classes
    data = 4 * rows * (width + classes)
    # the same table as CSV, labels in the last column: its text (about
    # 3.6 bytes a value) is never held beside the floats
    labels = [b % classes for b in rng.randbytes(rows)]
    with open(WORK / "img.csv", "w") as f:
        for r in range(rows):
            row = pixels[r * width:(r + 1) * width]
            f.write(",".join(map(str, row)) + ",%d\n" % labels[r])
    data_csv = 4 * rows * (width + 1 + classes) + 2 * 8 * rows  # + lines
    # The process's own: 16 MiB, and 8 more with oneDNN, whose code and
    # tables take 7.5 MiB on its first product (docs/performance.md)
    backend = re.search(r"^backend: (.*)$", run("--version").stdout, re.M)
    overhead = (24 if backend and backend.group(1).startswith("oneDNN")
                else 16) * 2**20
    models = {}
    for images, data_bytes in (("img.idx.gz", data), ("img.npy", data),
                               ("imgf.npy", data),
                               ("img.csv", data_csv)):
        bound = (data_bytes + 3 * 4 * params
                 + 2 * 4 * batch * (width + hidden + classes) + overhead)
        labels_args = [] if images.endswith("csv") else ["--labels",
                                                          "lab.idx"]
        peak = peak_rss(["train", images, *labels_args, "--layers",
                         "%d,%d,%d" % (width, hidden, classes),
                         "--optimizer", "momentum", "--batch", str(batch),
                         "--epochs", "1", "-q", "-o", "m.nn"])
        print("%s: peak resident set %.1f MiB, bound %.1f MiB"
              % (images, peak / 2**20, bound / 2**20))
        check(peak <= bound, "%s: peak resident set %.1f MiB > bound %.1f "
              "MiB" % (images, peak / 2**20, bound / 2**20))
        if images != "img.csv":  # the same floats: the same model
            models[images] = (WORK / "m.nn").read_bytes()
    check(len(set(models.values())) == 1,
          "IDX, .npy and Fortran .npy train different models")
    # 2^32 - 1 images promised, 3 given: refused without reserving room
    # for the promise (which would fail as out of memory)
    (WORK / "liar.idx").write_bytes(
        mkdata.idx_bytes([], [2**32 - 1, 28, 28]) + bytes(3 * width))
    p = run("train", "liar.idx", "--labels", "lab.idx", "--layers", "784,10",
            "-o", "x.nn", rc=1)
    check(p.stderr == "nnet: liar.idx: truncated: the IDX header promises "
          "4294967295 x 784 values, the file holds 2352\n", p.stderr)


def peak_rss(args):
    """Runs nn with `args` in WORK; its peak resident set size in bytes.
    Measured by GNU time, whose small process forks nn: a child forked by
    this Python process would count Python's pages too."""
    out = WORK / "peak_rss.txt"
    run_args = ["-o", out, "-f", "%M", NN, *args]
    p = subprocess.run(["/usr/bin/time", *map(str, run_args)], cwd=WORK,
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "nn %s failed: %s" % (" ".join(args), p.stderr))
    return int(out.read_text().split()[-1]) * 1024  # %M is in KiB


@test
def test_npy_roundtrip():
    rows, labels = mkdata.blobs(300, seed=5)
    mkdata.write_npy(WORK / "x.npy", mkdata.flat(rows), [300, 4])
    mkdata.write_npy(WORK / "y.npy", labels, [300], "<i8")
    run("train", "x.npy", "--labels", "y.npy", "--layers", "4,16,3",
        "--epochs", "30", "--lr", "0.01", "-o", "m.nn", "-q")
    out = run("eval", "m.nn", "x.npy", "--labels", "y.npy").stdout
    acc = float(field(out, "accuracy").split()[0])
    check(acc >= 0.9, out)
    # the same data as big-endian float64 in Fortran order, and u1 labels
    cols = [row[j] for j in range(4) for row in rows]
    mkdata.write_npy(WORK / "xf.npy", cols, [300, 4], ">f8", fortran=True)
    mkdata.write_npy(WORK / "yu.npy", labels, [300], "|u1")
    out2 = run("eval", "m.nn", "xf.npy", "--labels", "yu.npy").stdout
    check(field(out2, "accuracy") == field(out, "accuracy"),
          "Fortran-order float64 reads as the same data")
    # Fortran order in place, over shapes whose transpositions have cycles
    # of many lengths: each predicts as its C-order copy
    rng = random.Random(6)
    for n_rows, n_cols in ((7, 5), (2, 9), (64, 3), (300, 4), (1, 6)):
        vals = [rng.randrange(-99, 100) / 4 for _ in range(n_rows * n_cols)]
        mkdata.write_npy(WORK / "c.npy", vals, [n_rows, n_cols])
        mkdata.write_npy(WORK / "f.npy", [vals[r * n_cols + c]
                                          for c in range(n_cols)
                                          for r in range(n_rows)],
                         [n_rows, n_cols], fortran=True)
        mkdata.write_npy(WORK / "l.npy", [r % 3 for r in range(n_rows)],
                         [n_rows], "<i8")
        run("train", "c.npy", "--labels", "l.npy", "--layers",
            "%d,3" % n_cols, "--epochs", "1", "-o", "w.nn", "-q")
        pc = run("predict", "w.nn", "c.npy").stdout
        pf = run("predict", "w.nn", "f.npy").stdout
        check(pc == pf, "Fortran order %dx%d reads differently"
              % (n_rows, n_cols))
    # regression targets with two columns from .npy
    ys = [v for row in rows for v in (row[0] + row[1], row[2] - row[3])]
    mkdata.write_npy(WORK / "y2.npy", ys, [300, 2])
    run("train", "x.npy", "--labels", "y2.npy", "--layers", "4,8,2",
        "--task", "regress", "--epochs", "5", "-o", "r.nn", "-q")
    pred = run("predict", "r.nn", "x.npy").stdout.splitlines()
    check(pred[0] == "y0,y1" and len(pred) == 301, pred[:2])


# .npy headers as numpy's _read_array_header takes them: a Python literal
# (quotes, escapes, comments, 0x10, Python 2's 3L in versions 1 and 2, the
# last of duplicate keys), exactly three keys, a bool fortran_order.
NPY_HEADERS = [
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
    "{'descr': '<f4', 'fortran_order': 1, 'shape': (3, 2), }",
    "{'descr': '<f4', 'fortran_order': 0, 'shape': (3, 2), }",
    "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, "
    "'shape': (3, 2), }",
    "{'descr': '<f4', 'fortran_order': True, 'fortran_order': False, "
    "'shape': (2, 3), 'shape': (3, 2)}",
    "{'descr': [('a', '<f4')], 'descr': '<f4', 'fortran_order': False, "
    "'shape': (3, 2)}",
    '{"descr": "<" \'f4\', # a comment\n "fortran_order": False, '
    '"shape": (0x3, 0b10), }',
    "{'descr': '\\x3cf4', 'fortran_order': False, 'shape': (3L, 2L), }",
    "{'descr': u'<f4', 'fortran_order': False, 'shape': (+3, 2_0), }",
    "{'descr': b'<f4', 'fortran_order': False, 'shape': (3, 2), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (03, 2), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, -2), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (True, 6), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': [3, 2], }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': ((3), 2), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), 'x': 1}",
    "{'descr': '<f4', 'shape': (3, 2), }",
    "{'descr': '<f4', 'fortran_order': None, 'shape': (3, 2), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), } x",
    "\n  {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }\n   ",
    "{'descr': 'f4', 'fortran_order': True, 'shape': (2, 3), }",
    "{'descr': '>f4', 'fortran_order': False, 'shape': (3, 2), }",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), "
    "[1]: 2}",
    "{'descr': ur'<f4', 'fortran_order': False, 'shape': (3, 2), }",
    "{'descr': '\\x3', 'descr': '<f4', 'fortran_order': False, "
    "'shape': (3, 2), }",
    "{'descr': Rb'<f4', 'descr': '<f4', 'fortran_order': False, "
    "'shape': (3, 2), }",
]


def npy_file(header, version, payload):
    import struct
    h = (header + "\n").encode("latin1")
    size = struct.pack("<H" if version == 1 else "<I", len(h))
    return b"\x93NUMPY" + bytes([version, 0]) + size + h + payload


@test
def test_npy_headers_as_numpy():
    """Every header above, and every .npy file of the fuzz corpus, is
    read or refused as numpy.load reads or refuses it, to the same values."""
    import io
    import numpy as np
    payload = bytes(range(48))  # 12 float32 or 6 float64 values
    files = {}
    for i, header in enumerate(NPY_HEADERS):
        for version in (1, 3):
            files["h%02d-v%d.npy" % (i, version)] = npy_file(header, version,
                                                           payload)
    corpus = Path(__file__).resolve().parent.parent / "fuzz/corpus/data"
    for path in sorted(corpus.glob("*.npy")):
        files[path.name] = path.read_bytes()
    models = {}
    checked = 0
    for name, content in files.items():
        (WORK / name).write_bytes(content)
        try:
            a = np.load(io.BytesIO(content))
            if a.ndim == 0 or a.size == 0 or not np.isfinite(
                    a.astype(np.float64)).all():
                continue  # refused by the tool's own rules, not numpy's
            a = a.reshape(a.shape[0], -1).astype(np.float64)
        except Exception:  # noqa: BLE001 -- numpy refuses: the tool too
            a = None
        cols = 2 if a is None else a.shape[1]
        if cols not in models:
            mkdata.write_csv(WORK / "t.csv", [[float(j) for j in range(cols)]
                                              for _ in range(4)], [0] * 4)
            run("train", "t.csv", "--layers", "%d,1" % cols, "--task",
                "regress", "--epochs", "1", "-q", "-o", "m%d.nn" % cols)
            models[cols] = "m%d.nn" % cols
        p = run("predict", models[cols], name, rc=None)
        if a is None:
            check(p.returncode == 1 and p.stderr.startswith(
                "nnet: %s: " % name) and "input value" not in p.stderr,
                "%s: numpy refuses it, the tool says %r" % (name, p.stderr))
            continue
        check(p.returncode == 0, "%s: numpy reads it, the tool says %r" %
              (name, p.stderr))
        (WORK / "same.csv").write_text("".join(
            ",".join(repr(v) for v in row) + "\n" for row in a.tolist()))
        same = run("predict", models[cols], "same.csv", "--no-header")
        check(p.stdout == same.stdout, "%s: values differ from numpy's" %
              name)
        checked += 1
    check(checked >= 10, "only %d files read by both" % checked)
    p = run("predict", models[2], "h01-v1.npy", rc=1)
    check("'fortran_order' is not True or False" in p.stderr, p.stderr)


# ---- bad input: one message naming file, line and column ----

def bad_case(files, args, rc, message):
    """Writes `files`, runs nn, checks the single message and that no model
    (or temporary file) is left behind."""
    for name, content in files.items():
        path = WORK / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    p = run(*args, rc=rc)
    lines = p.stderr.splitlines()
    check(lines and lines[0] == message,
          "nn %s:\nexpected: %s\ngot:      %s" % (" ".join(args), message,
                                                  p.stderr))
    check(len(lines) == (2 if rc == 2 else 1), "one message: %r" % p.stderr)
    no_leftovers("m.nn")


HEAD = "a,b,label\n"
TRAIN = ["train", "d.csv", "--layers", "2,3", "-o", "m.nn"]


@test
def test_bad_missing_file():
    bad_case({}, ["train", "nope.csv", "--layers", "2,3", "-o", "m.nn"], 1,
             "nnet: nope.csv: cannot open: No such file or directory")
    # libnn words the model's message (nn_last_error); the tool adds the
    # error name
    p = run("eval", "nope.nn", "x.csv", rc=1)
    check(re.match(r"nnet: nope\.nn: .*No such file or directory.*\(NN_EIO\)$",
                   p.stderr.strip()) and len(p.stderr.splitlines()) == 1,
          p.stderr)


@test
def test_bad_not_a_number():
    bad_case({"d.csv": HEAD + "1,2,0\n3,x7,1\n"}, TRAIN, 1,
             "nnet: d.csv:3:2: 'x7' is not a number")


@test
def test_bad_empty_cell():
    bad_case({"d.csv": HEAD + "1,2,0\n3,,1\n"}, TRAIN, 1,
             "nnet: d.csv:3:2: empty cell in column 'b', expected a number "
             "(--na drop skips rows with missing values)")
    bad_case({"d.csv": "1,2,0\n3,NA,1\n"}, TRAIN, 1,
             "nnet: d.csv:2:2: 'NA' is a missing value (--na drop skips rows "
             "with missing values)")


@test
def test_bad_nan():
    bad_case({"d.csv": HEAD + "1,2,0\n\ninf,4,1\n"}, TRAIN, 1,
             "nnet: d.csv:4:1: 'inf' is not a finite number (NaN or infinity, "
             "or too large for a float)")
    bad_case({"d.csv": HEAD + "1,2,0\n1e39,4,1\n"}, TRAIN, 1,
             "nnet: d.csv:3:1: '1e39' is not a finite number (NaN or infinity, "
             "or too large for a float)")


@test
def test_bad_ragged():
    bad_case({"d.csv": HEAD + "1,2,0\n3,4\n"}, TRAIN, 1,
             "nnet: d.csv:3: 2 values, but line 1 has 3")
    bad_case({"d.csv": HEAD + "1,2,0,5\n"}, TRAIN, 1,
             "nnet: d.csv:2: 4 values, but line 1 has 3")


@test
def test_bad_label_out_of_range():
    """Classes come from the labels; --layers must agree with them."""
    bad_case({"d.csv": HEAD + "1,2,0\n3,4,1\n5,6,3\n7,8,5\n"}, TRAIN, 1,
             "nnet: d.csv: 4 classes (0, 1, 3, 5), but --layers gives 3 "
             "outputs")
    bad_case({"d.csv": HEAD + "1,2,-1\n3,4,0\n"}, TRAIN, 1,
             "nnet: d.csv: 2 classes (-1, 0), but --layers gives 3 outputs")
    bad_case({"d.csv": HEAD + "1,2,0.5\n"}, TRAIN, 1,
             "nnet: d.csv: 1 target value per sample, but the output layer "
             "has 3 units")
    bad_case({"d.csv": HEAD + "1,2,a\n3,4,a\n"},
             ["train", "d.csv", "-o", "m.nn"], 1,
             "nnet: d.csv: every label is 'a': classification needs at least "
             "2 classes")
    bad_case({"d.csv": HEAD + "1,2,a\n3,4,b\n"},
             ["train", "d.csv", "--task", "regress", "-o", "m.nn"], 1,
             "nnet: d.csv:2:3: 'a' is not a number, and regression needs "
             "numbers (for classes: --task classify)")
    mkdata.write_idx(WORK / "x.idx", [1, 2, 3, 4], [2, 2])
    bad_case({"y.idx": mkdata.idx_bytes([0, 9], [2])},
             ["train", "x.idx", "--labels", "y.idx", "--layers", "2,3", "-o",
              "m.nn"], 1,
             "nnet: y.idx: 2 classes (0, 9), but --layers gives 3 outputs")


@test
def test_bad_shape():
    bad_case({"d.csv": HEAD + "1,2,0\n"},
             ["train", "d.csv", "--layers", "4,3", "-o", "m.nn"], 1,
             "nnet: d.csv: 2 input values per sample, but --layers asks for 4")
    mkdata.write_idx(WORK / "x.idx", [1, 2, 3, 4, 5, 6], [3, 2])
    bad_case({"y.idx": mkdata.idx_bytes([0, 1], [2])},
             ["train", "x.idx", "--labels", "y.idx", "--layers", "2,3", "-o",
              "m.nn"], 1,
             "nnet: y.idx has 2 label rows, but x.idx has 3 samples")
    # regression targets must match the outputs
    bad_case({"d.csv": HEAD + "1,2,0.5\n"},
             ["train", "d.csv", "--layers", "2,2", "--task", "regress", "-o",
              "m.nn"], 1,
             "nnet: d.csv: 1 target value per sample, but the output layer "
             "has 2 units")
    # a model fed data of the wrong width
    (WORK / "ok.csv").write_text(HEAD + "1,2,0\n3,4,1\n")
    run("train", "ok.csv", "--layers", "2,3", "-o", "ok.nn", "-q")
    # by the names the model keeps when DATA has a header
    bad_case({"w.csv": "a,b,c,label\n1,2,3,0\n"}, ["eval", "ok.nn", "w.csv"],
             1, "nnet: w.csv: column 'c' is not an input of the model (skip "
             "it with --ignore 'c')")
    bad_case({"u.csv": "a,b\n1,2\n"}, ["eval", "ok.nn", "u.csv"], 1,
             "nnet: u.csv has no column 'label', the model's label column "
             "(give --label COL)")
    bad_case({"v.csv": "a,label\n1,0\n"}, ["eval", "ok.nn", "v.csv"], 1,
             "nnet: v.csv has no column 'b', an input of the model")
    # and by position without one
    bad_case({"w.csv": "1,2,3,0\n"}, ["eval", "ok.nn", "w.csv"],
             1, "nnet: w.csv: 3 input values per sample, but the model takes 2")
    bad_case({"u.csv": "1,2\n"}, ["eval", "ok.nn", "u.csv"], 1,
             "nnet: u.csv: 2 columns, but the model takes 2 inputs plus a "
             "label column (or give --labels FILE)")
    bad_case({"d.csv": HEAD + "1,2,0\n"},
             ["train", "d.csv", "--layers", "3,3", "-o", "m.nn"], 1,
             "nnet: d.csv: 3 columns, but --layers asks for 3 inputs plus a "
             "label column (or give --labels FILE)")


@test
def test_bad_binary_files():
    bad_case({"t.idx": mkdata.idx_bytes([1, 2, 3, 4], [2, 2])[:-1]},
             ["train", "t.idx", "--labels", "t.idx", "--layers", "2,3", "-o",
              "m.nn"], 1,
             "nnet: t.idx: truncated: the IDX header promises 2 x 2 values, "
             "the file holds 3")
    mkdata.write_npy(WORK / "t.npy", [1.0, float("nan")], [2])
    (WORK / "ok.csv").write_text("a,label\n1,0\n2,1\n")
    run("train", "ok.csv", "--layers", "1,2", "-o", "ok.nn", "-q")
    # a shape of 2^40 rows over 3 values: refused, nothing reserved for it
    bad_case({"big.npy": mkdata.npy_bytes([1.0, 2.0, 3.0], [2**40])},
        ["predict", "ok.nn", "big.npy"], 1,
        "nnet: big.npy: truncated: the shape needs 1099511627776 values, the "
        "file holds 3")
    # 2^61 doubles: their bytes overflow a size_t
    bad_case({"huge.npy": mkdata.npy_bytes([1.0, 2.0], [2**61], "<f8")},
             ["predict", "ok.nn", "huge.npy"], 1,
             "nnet: huge.npy: truncated: the shape needs 2305843009213693952 "
             "values, the file holds 2")
    bad_case({}, ["predict", "ok.nn", "t.npy"], 1,
             "nnet: t.npy: element [1]: nan is not a finite float")
    # a model file cut short is refused by libnn, with one message
    (WORK / "cut.nn").write_bytes((WORK / "ok.nn").read_bytes()[:-10])
    p = run("info", "cut.nn", rc=1)
    check(p.stderr.startswith("nnet: cut.nn: ") and
          p.stderr.rstrip().endswith("(NN_EFORMAT)") and
          len(p.stderr.splitlines()) == 1, p.stderr)
    bad_case({"s.npy": mkdata.npy_bytes([1, 0], [2], "|b1").replace(
        b"|b1", b"<U1")}, ["predict", "ok.nn", "s.npy"], 1,
        "nnet: s.npy: dtype <U1 is not supported (use float32, float64, an "
        "integer type or bool)")
    bad_case({"z.gz": gzip.compress(b"a,b\n1,2\n")[:-6]},
             ["predict", "ok.nn", "z.gz"], 1,
             "nnet: z.gz: cannot read: unexpected end of file")
    # a model file is not data, and data is not a model
    bad_case({}, ["predict", "ok.nn", "ok.nn"], 1,
             "nnet: ok.nn: not a CSV, IDX or .npy file (it holds binary data "
             "that is none of these)")
    p = run("info", "ok.csv", rc=1)
    check(p.stderr.startswith("nnet: ok.csv: not a libnn model"), p.stderr)
    check(len(p.stderr.splitlines()) == 1, p.stderr)


@test
def test_bad_output_directory():
    write_blobs()
    bad_case({}, ["train", "blobs.csv", "--layers", "4,3", "-o",
                  "no/such/dir/m.nn"], 1,
             "nnet: -o no/such/dir/m.nn: cannot write into directory "
             "'no/such/dir': No such file or directory")
    # a directory as the output: refused before training starts
    (WORK / "models").mkdir()
    for args in (["train", "blobs.csv", "--layers", "4,3", "-o", "models"],
                 ["train", "blobs.csv", "--layers", "4,3", "-o", "m.nn",
                  "--log", "models"]):
        p = run(*args, rc=1)
        check(p.stdout == "" and re.match(r"nnet: (-o|--log) models: is a "
                                          r"directory", p.stderr), p)
    no_leftovers("m.nn")


def train_blobs(*out, rc=0, **kw):
    return run("train", "blobs.csv", "--layers", "4,8,3", "--epochs", "2",
               "-q", *out, rc=rc, **kw)


@test
def test_output_targets():
    """Regular files are replaced whole; links are followed and stay links;
    devices, FIFOs and descriptors are written in place."""
    write_blobs()
    train_blobs("-o", "ref.nn")
    model = (WORK / "ref.nn").read_bytes()
    # a character device stays the device
    null = os.stat("/dev/null")
    p = train_blobs("-o", "/dev/null", "--plot", "/dev/null", "--log",
                    "/dev/stderr")
    after = os.stat("/dev/null")
    check(stat.S_ISCHR(after.st_mode) and after.st_rdev == null.st_rdev and
          after.st_ino == null.st_ino, "/dev/null is still the device")
    check(p.stderr.startswith("epoch,train_loss,") and
          len(p.stderr.splitlines()) == 3, "the log on stderr: %r" % p.stderr)
    pred = run("predict", "ref.nn", "blobs.csv", "-o", "/dev/stdout").stdout
    check(pred == run("predict", "ref.nn", "blobs.csv").stdout,
          "predict -o /dev/stdout prints the predictions")
    # a FIFO: the reader gets the model, the FIFO stays a FIFO
    os.mkfifo(WORK / "pipe")
    got = {}
    reader = threading.Thread(
        target=lambda: got.update(b=(WORK / "pipe").read_bytes()))
    reader.start()
    train_blobs("-o", "pipe", timeout=60)
    reader.join(60)
    check(got.get("b") == model, "the FIFO's reader got the model")
    check(stat.S_ISFIFO(os.lstat(WORK / "pipe").st_mode), "still a FIFO")
    # a link: the file it points to gets the model, the link stays
    (WORK / "run1.nn").write_bytes(b"old")
    os.symlink("run1.nn", WORK / "latest.nn")
    train_blobs("-o", "latest.nn")
    check(os.path.islink(WORK / "latest.nn"), "latest.nn is still a link")
    check((WORK / "run1.nn").read_bytes() == model, "run1.nn is the model")
    # a dangling link: its target is created
    os.symlink("sub/next.nn", WORK / "next.nn")
    (WORK / "sub").mkdir()
    train_blobs("-o", "next.nn", "--log", "log.csv")
    check((WORK / "sub" / "next.nn").read_bytes() == model, "link target")
    no_leftovers()


@test
def test_output_is_an_input():
    """No output may be one of the inputs or another output: a usage error
    before anything is read or written."""
    write_blobs("same.csv")
    run("train", "same.csv", "--layers", "4,8,3", "--epochs", "1", "-q",
        "-o", "m.nn")
    os.symlink("same.csv", WORK / "alias.csv")
    (WORK / "y.csv").write_text("0\n" * 300)
    cases = [
        (["train", "same.csv", "--layers", "4,8,3", "-o", "same.csv"],
         "-o same.csv is the same file as DATA same.csv"),
        (["train", "same.csv", "--layers", "4,8,3", "-o", "alias.csv"],
         "-o alias.csv is the same file as DATA same.csv"),
        (["train", "same.csv", "--layers", "4,8,3", "-o", "m.nn", "--plot",
          "./m.nn"], "-o m.nn is the same file as --plot ./m.nn"),
        (["train", "same.csv", "--layers", "4,8,3", "-o", "new.nn",
          "--log", "new.nn"], "-o new.nn is the same file as --log new.nn"),
        (["train", "same.csv", "--layers", "4,8,3", "-o", "n.nn", "--log",
          "same.csv"], "--log same.csv is the same file as DATA same.csv"),
        (["train", "same.csv", "--labels", "y.csv", "--layers", "4,8,3",
          "-o", "n.nn", "--plot", "y.csv"],
         "--plot y.csv is the same file as --labels y.csv"),
        (["predict", "m.nn", "same.csv", "-o", "m.nn"],
         "-o m.nn is the same file as MODEL m.nn"),
        (["predict", "m.nn", "same.csv", "-o", "alias.csv"],
         "-o alias.csv is the same file as DATA same.csv"),
    ]
    files = {n: (WORK / n).read_bytes() for n in ("same.csv", "m.nn", "y.csv")}
    for args, message in cases:
        p = run(*args, rc=2)
        check(p.stderr.splitlines()[0] == "nnet %s: %s: an output never "
              "replaces an input or another output" % (args[0], message),
              p.stderr)
        for name, content in files.items():
            check((WORK / name).read_bytes() == content, "%s changed" % name)
        no_leftovers("new.nn", "n.nn")
    # the same device twice is fine
    run("train", "same.csv", "--layers", "4,8,3", "--epochs", "1", "-q",
        "-o", "/dev/null", "--log", "/dev/null", "--plot", "/dev/null")


@test
def test_output_modes():
    """New files get 0666 minus the umask; a replaced file keeps its mode."""
    write_blobs()

    def umask_027():
        os.umask(0o027)
    train_blobs("-o", "m.nn", "--plot", "c.svg", "--log", "c.csv",
                preexec_fn=umask_027)
    run("predict", "m.nn", "blobs.csv", "-o", "p.csv", preexec_fn=umask_027)
    for name in ("m.nn", "c.svg", "c.csv", "p.csv"):
        mode = stat.S_IMODE(os.stat(WORK / name).st_mode)
        check(mode == 0o640, "%s: mode %o, umask 027 gives 640" % (name, mode))
        os.chmod(WORK / name, 0o604)
    train_blobs("-o", "m.nn", "--plot", "c.svg", "--log", "c.csv",
                preexec_fn=umask_027)
    run("predict", "m.nn", "blobs.csv", "-o", "p.csv", preexec_fn=umask_027)
    for name in ("m.nn", "c.svg", "c.csv", "p.csv"):
        mode = stat.S_IMODE(os.stat(WORK / name).st_mode)
        check(mode == 0o604, "%s replaced: mode %o, was 604" % (name, mode))


# ---- outputs: SVG plot and CSV log ----

SVG = "{http://www.w3.org/2000/svg}"


@test
def test_plot_and_log():
    write_blobs()
    epochs = 12
    run("train", "blobs.csv", "--layers", "4,8,3", "--epochs", epochs,
        "--val-split", "0.25", "--schedule", "cosine", "--plot", "c.svg",
        "--log", "c.csv", "-o", "m.nn", "-q")
    with open(WORK / "c.csv") as f:
        log = list(csv.DictReader(f))
    check(list(log[0].keys()) == ["epoch", "train_loss", "train_accuracy",
                                  "val_loss", "val_accuracy",
                                  "learning_rate", "seconds"],
          "log columns %s" % list(log[0].keys()))
    check([int(r["epoch"]) for r in log] == list(range(1, epochs + 1)),
          "one row per epoch")
    for r in log:
        for k in ("train_loss", "train_accuracy", "val_loss",
                  "val_accuracy", "learning_rate", "seconds"):
            float(r[k])  # every cell is a number
        check(0 <= float(r["val_accuracy"]) <= 1, "accuracy in [0, 1]")
    lrs = [float(r["learning_rate"]) for r in log]
    check(lrs[0] == 0.001 and all(a > b for a, b in zip(lrs, lrs[1:])),
          "cosine schedule decreases: %s" % lrs)

    root = ET.parse(WORK / "c.svg").getroot()
    check(root.tag == SVG + "svg", "root is <svg>")
    for panel in ("loss", "accuracy"):
        g = root.find(".//%sg[@id='%s']" % (SVG, panel))
        check(g is not None, "panel %s" % panel)
        texts = {t.text for t in g.iter(SVG + "text")}
        for label in (panel, "epoch", "training", "validation"):
            check(label in texts, "label %s in panel %s" % (label, panel))
        paths = {p.get("class"): p.get("d") for p in g.iter(SVG + "path")}
        for series in ("training", "validation"):
            d = paths.get(series, "")
            check(len(re.findall(r"[ML]", d)) == epochs,
                  "%s curve of %s has %d points" % (series, panel, epochs))
    check(not root.findall(".//%sscript" % SVG), "no scripts")
    check("href" not in (WORK / "c.svg").read_text(), "no external links")


@test
def test_log_of_a_run_longer_than_the_history():
    """libnn keeps the last NN_HISTORY_CAPACITY (1024) epochs: the log and
    the plot number them as the epochs of the run they are, with their own
    times, and the summary counts every epoch of the run."""
    write_blobs(n=8)
    epochs, kept = 1100, 1024
    out = run("train", "blobs.csv", "--layers", "4,2,3", "--epochs", epochs,
              "--batch", "8", "--val-split", "0.25", "--log", "l.csv",
              "--plot", "l.svg", "-o", "m.nn").stdout
    check("trained %d epochs" % epochs in out, "summary:\n" + out)
    check("stopped early" not in out, "no early stop:\n" + out)
    with open(WORK / "l.csv") as f:
        log = list(csv.DictReader(f))
    check([int(r["epoch"]) for r in log] ==
          list(range(epochs - kept + 1, epochs + 1)),
          "the log holds epochs %s..%s" % (log[0]["epoch"], log[-1]["epoch"]))
    seconds = [float(r["seconds"]) for r in log]
    check(seconds[0] > 0 and all(a <= b for a, b in zip(seconds, seconds[1:])),
          "the times of the kept epochs, in order")
    best = min(log, key=lambda r: float(r["val_loss"]))["epoch"]
    check("best validation loss" not in out or
          "at epoch %s " % best in out, "best epoch %s:\n%s" % (best, out))
    texts = {t.text for t in ET.parse(WORK / "l.svg").getroot().iter(
        SVG + "text")}
    check("best, epoch %s" % best in texts, "the plot names epoch %s" % best)


@test
def test_plot_regression():
    rows, ys = mkdata.linear(100)
    mkdata.write_csv(WORK / "lin.csv", rows, ys)
    run("train", "lin.csv", "--layers", "2,4,1", "--epochs", "3", "--plot",
        "r.svg", "--log", "r.csv", "-o", "r.nn", "-q")
    root = ET.parse(WORK / "r.svg").getroot()
    panels = [g.get("id") for g in root.iter(SVG + "g")]
    check(panels == ["loss"], "regression plots the loss only: %s" % panels)
    with open(WORK / "r.csv") as f:
        log = list(csv.DictReader(f))
    check(len(log) == 3 and log[0]["train_accuracy"] == "" and
          log[0]["val_loss"] == "", "empty cells where nothing applies")


@test
def test_plot_scales():
    """The legend is a row above each plot area, never over the curves;
    the best epoch is named there; the loss axis is logarithmic when the
    loss falls tenfold (or with --plot-log), linear otherwise; the title
    says what network was trained on what."""
    rows, ys = mkdata.linear(200)
    big = [30 * y + 100 for y in ys]   # a loss falling from ~14 000
    mkdata.write_csv(WORK / "big.csv", rows, big, header=["a", "b", "y"])
    run("train", "big.csv", "--hidden", "8", "--epochs", "45", "--lr",
        "0.05", "--val-split", "0.2", "--plot", "big.svg", "--log",
        "big.csv.log", "-o", "m.nn", "-q")
    log = list(csv.DictReader(open(WORK / "big.csv.log")))
    losses = [float(r["train_loss"]) for r in log]
    check(max(losses) >= 10 * min(losses), "the loss falls tenfold")
    best = min(range(len(log)), key=lambda i: float(log[i]["val_loss"]))
    root = ET.parse(WORK / "big.svg").getroot()
    check(root.find(SVG + "title").text ==
          "big.csv: 2-8-1 regression, 160 training samples, 40 validation",
          root.find(SVG + "title").text)
    g = root.find(".//%sg[@id='loss']" % SVG)
    check(g.get("class") == "log", "log loss axis")
    texts = [t for t in g.iter(SVG + "text")]
    check(any(t.text == "loss (log scale)" for t in texts), "axis label")
    frame = [r for r in g.iter(SVG + "rect") if r.get("fill") == "none"][0]
    top = float(frame.get("y"))
    for t in texts:
        if t.text in ("training", "validation") or \
                t.text.startswith("best"):
            check(float(t.get("y")) < top, "%s is inside the plot area"
                  % t.text)
    check(any(t.text == "best, epoch %d" % (best + 1) for t in texts),
          "the best epoch named: %s" % [t.text for t in texts])
    # ticks at 1, 2, 5 times powers of ten
    ticks = [t.text for t in texts if t.get("text-anchor") == "end"]
    check(ticks and all(re.match(r"^[125](e[+-]\d+|0*)$|^0\.0*[125]$", v)
                        for v in ticks), "log ticks %s" % ticks)
    # a flat loss stays linear, unless --plot-log
    rows, labels = mkdata.blobs(60, seed=3)
    mkdata.write_csv(WORK / "b.csv", rows, labels)
    for extra, want in (([], None), (["--plot-log"], "log")):
        run("train", "b.csv", "--epochs", "2", "--lr", "1e-5", "--plot",
            "b.svg", "-o", "b.nn", "-q", *extra)
        g = ET.parse(WORK / "b.svg").getroot().find(
            ".//%sg[@id='loss']" % SVG)
        check(g.get("class") == want, "%s: class %s" % (extra, g.get("class")))


# ---- training control ----

@test
def test_early_stopping():
    # few samples, many units, random labels: validation loss soon rises
    rows, _ = mkdata.blobs(60, seed=7)
    import random
    rng = random.Random(7)
    labels = [rng.randrange(3) for _ in rows]
    mkdata.write_csv(WORK / "noise.csv", rows, labels)
    p = run("train", "noise.csv", "--layers", "4,64,64,3", "--epochs", "200",
            "--lr", "0.01", "--val-split", "0.3", "--early-stop", "5",
            "--log", "l.csv", "-o", "m.nn")
    check("stopped early: no better validation loss for 5 epochs" in
          p.stdout, p.stdout)
    with open(WORK / "l.csv") as f:
        log = list(csv.DictReader(f))
    val = [float(r["val_loss"]) for r in log]
    best = val.index(min(val))
    check(len(log) == best + 1 + 5, "stopped 5 epochs after the best "
          "(best %d, ran %d)" % (best + 1, len(log)))
    check("best validation loss %.4f at epoch %d (weights restored)" %
          (min(val), best + 1) in p.stdout, p.stdout)
    info = run("info", "m.nn").stdout
    check(int(field(info, "epochs trained")) == len(log), info)


@test
def test_reproducible():
    write_blobs()
    args = ["train", "blobs.csv", "--layers", "4,8,3", "--epochs", "5",
            "--dropout", "0.2", "--val-split", "0.2", "--seed", "9", "-q"]
    run(*args, "-o", "a.nn")
    run(*args, "-o", "b.nn")
    check((WORK / "a.nn").read_bytes() == (WORK / "b.nn").read_bytes(),
          "same seed, same model file")
    args[args.index("--seed") + 1] = "10"
    run(*args, "-o", "c.nn")
    check((WORK / "a.nn").read_bytes() != (WORK / "c.nn").read_bytes(),
          "another seed, another model")


def long_run_data():
    rows, labels = mkdata.blobs(3000, seed=8, spread=3.0)
    mkdata.write_csv(WORK / "big.csv", rows, labels)


@test
def test_interrupt():
    """Ctrl-C stops after the current step and still saves the model."""
    long_run_data()
    proc = subprocess.Popen(
        [NN, "train", "big.csv", "--layers", "4,64,64,3", "--epochs",
         "100000", "--batch", "16", "--val-split", "0.2", "-o", "m.nn",
         "--log", "l.csv"], cwd=WORK, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    seen = []
    while len(seen) < 2:  # let two epochs finish
        line = proc.stdout.readline()
        if not line:
            raise Failure("training ended early: %s" % proc.stderr.read())
        if line.startswith("epoch"):
            seen.append(line)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    check(proc.returncode == 130, "exit status %d after Ctrl-C, stderr %s" %
          (proc.returncode, err))
    check(re.search(r"^interrupted in epoch \d+, step \d+ of \d+$", out,
                    re.M), out)
    check("model written to m.nn" in out, out)
    info = run("info", "m.nn").stdout
    # the signal may land while epoch 2's line is printed: >= 2
    check(int(field(info, "epochs trained")) >= 2, info)
    with open(WORK / "l.csv") as f:
        check(len(list(csv.DictReader(f))) >= 2, "the log covers the epochs")
    no_leftovers()
    out = run("eval", "m.nn", "big.csv").stdout
    check(float(field(out, "accuracy").split()[0]) > 0.5, out)


@test
def test_interrupt_during_save():
    """A second Ctrl-C while the model is being written is held back until
    the model is whole: it never leaves a temporary file or a broken
    model. The model is made large (27 MB with Adam's state) so that its
    temporary file lives long enough to be seen, and the second signal is
    sent the moment it appears."""
    long_run_data()
    caught = 0
    for attempt in range(8):
        for p in WORK.glob("m.nn*"):
            p.unlink()
        proc = subprocess.Popen(
            [NN, "train", "big.csv", "--layers", "4,1500,1500,3",
             "--epochs", "1000", "--batch", "1", "-o", "m.nn"], cwd=WORK,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        check(proc.stdout.readline().startswith("classification, "),
              "the task line")
        check(proc.stdout.readline().startswith("training "), "started")
        time.sleep(0.5)  # the handler is installed just after that line
        proc.send_signal(signal.SIGINT)
        tmp = []
        while proc.poll() is None and not tmp:
            tmp = [p for p in WORK.iterdir() if ".tmp" in p.name]
        if tmp:
            proc.send_signal(signal.SIGINT)
            caught += 1
        out, err = proc.communicate(timeout=120)
        # the first signal saves and exits 130; the held second one, once
        # the model is whole, ends the process as SIGINT does
        check(proc.returncode in (130, -signal.SIGINT),
              "exit status %d: %s" % (proc.returncode, err))
        no_leftovers()
        info = run("info", "m.nn").stdout
        check(field(info, "layers") == "4-1500-1500-3", info)
        if caught >= 2:
            break
    check(caught >= 1, "the temporary file was never seen: the save was "
          "too fast for this test")


@test
def test_live_progress():
    """On a terminal, a live bar on stderr; plain epoch lines on stdout."""
    long_run_data()
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [NN, "train", "big.csv", "--layers", "4,32,3", "--epochs", "3",
         "--batch", "8", "-o", "m.nn"], cwd=WORK, stdout=subprocess.PIPE,
        stderr=slave, text=True)
    os.close(slave)
    bar = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed: the program ended
            break
        if not chunk:
            break
        bar += chunk
    out = proc.stdout.read()
    proc.wait(timeout=60)
    os.close(master)
    check(proc.returncode == 0, "exit status %d" % proc.returncode)
    text = bar.decode()
    check(re.search(r"\r\x1b\[Kepoch 1/3 \[[#.]{20}\] \d+/\d+ loss \d+\.\d+ \d+ "
                    r"samples/s ETA \d+:\d\d", text),
          "live bar on the terminal: %r" % text[:300])
    check(len(re.findall(r"^epoch \d/3 ", out, re.M)) == 3, out)
    # without a terminal, no bar at all
    p = run("train", "big.csv", "--layers", "4,3", "--epochs", "2", "-o",
            "n.nn")
    check("\r" not in p.stderr and "samples/s" not in p.stderr, p.stderr)
    q = run("train", "big.csv", "--layers", "4,3", "--epochs", "2", "-q",
            "-o", "q.nn")
    check(q.stdout == "" and q.stderr == "", "--quiet prints nothing")


@test
def test_non_finite_outputs():
    """Finite inputs too large for the model: outputs that are not finite
    are an error naming the file and line, not NaN printed with status 0."""
    write_blobs()
    run("train", "blobs.csv", "--layers", "4,64,3", "--epochs", "2", "-q",
        "-o", "m.nn")
    (WORK / "huge.csv").write_text("a,b,c,d,species\n1,2,3,4,0\n"
                                   "1,1,1,1,1\n" + "3.4e38," * 4 + "2\n")
    message = ("nnet: huge.csv:4: the model's outputs for this sample are "
               "not finite (NaN or infinity): its inputs are too large for "
               "the model")
    for args in (["predict", "m.nn", "huge.csv"],
                 ["predict", "m.nn", "huge.csv", "-o", "p.csv"],
                 ["eval", "m.nn", "huge.csv"]):
        p = run(*args, rc=1)
        check(p.stderr.strip() == message and p.stdout == "",
              "%s: %r" % (args, p.stderr))
    no_leftovers("p.csv")


@test
def test_divergence():
    """A run that blows up reports it and writes no model."""
    rows, ys = mkdata.linear(200)
    mkdata.write_csv(WORK / "lin.csv", rows, [y * 1e30 for y in ys])
    p = run("train", "lin.csv", "--layers", "2,8,1", "--optimizer", "sgd",
            "--lr", "10", "--epochs", "50", "-o", "m.nn", "-q", rc=1)
    check(p.stderr.startswith("nnet: training failed, no model written: "),
          p.stderr)
    check(len(p.stderr.splitlines()) == 1, p.stderr)
    no_leftovers("m.nn")


@test
def test_demo_script():
    """examples/fashion_mnist.sh end to end, on a stand-in data set of the
    same format (the real one takes minutes: run the script itself)."""
    import random
    rng = random.Random(11)
    data = WORK / "data"
    data.mkdir()
    for part, n in (("train", 300), ("t10k", 100)):
        labels = [i % 10 for i in range(n)]
        pix = [min(255, max(0, int(rng.gauss(25 * c, 40))))
               for c in labels for _ in range(784)]
        mkdata.write_idx(data / ("%s-images-idx3-ubyte.gz" % part), pix,
                         [n, 28, 28], gz=True)
        mkdata.write_idx(data / ("%s-labels-idx1-ubyte.gz" % part), labels,
                         [n], gz=True)
    script = Path(__file__).resolve().parents[2] / "examples" / \
        "fashion_mnist.sh"
    env = dict(os.environ, NN=NN, DATA=str(data), OUT=str(WORK / "out"),
               EPOCHS="2", MIN_ACCURACY="0")
    p = subprocess.run(["bash", str(script)], env=env, capture_output=True,
                       text=True, timeout=300)
    check(p.returncode == 0, "exit status %d:\n%s\n%s" %
          (p.returncode, p.stdout, p.stderr))
    for name in ("model.nn", "curves.svg", "metrics.csv", "train.txt",
                 "eval.txt", "summary.txt"):
        check((WORK / "out" / name).is_file(), "no out/%s" % name)
    check(re.search(r"^test accuracy  [01]\.\d{4} ", p.stdout, re.M),
          p.stdout)
    check(re.search(r"^training time  [\d.]+s wall", p.stdout, re.M),
          p.stdout)
    env["MIN_ACCURACY"] = "1.01"  # the accuracy check fails the script
    p = subprocess.run(["bash", str(script)], env=env, capture_output=True,
                       text=True, timeout=300)
    check(p.returncode == 1 and "is below 1.01" in p.stderr, p.stderr)


# ---- the user's own data ----

def first_line(p):
    return p.stdout.splitlines()[0]


@test
def test_labels_of_any_kind():
    """Words, 1-based integers and digits are classes, sorted as
    scikit-learn sorts them; fractions and hundreds of distinct integers
    are regression targets; --task decides otherwise. The classes live in
    the model: predict writes their names, eval reports under them, info
    lists them."""
    rows, labels = mkdata.blobs(150, seed=8)
    words = ["virginica", "setosa", "versicolor"]  # sorted: s, ve, vi
    (WORK / "w.csv").write_text("a,b,c,d,species\n" + "".join(
        ",".join("%.4f" % v for v in r) + ",%s\n" % words[c]
        for r, c in zip(rows, labels)))
    p = run("train", "w.csv", "--hidden", "8", "--epochs", "40", "--lr",
            "0.02", "-o", "w.nn")
    check(first_line(p) == "classification, 3 classes: setosa, versicolor, "
          "virginica", p.stdout)
    check("training 4-8-3 (classifier" in p.stdout, p.stdout)
    out = run("eval", "w.nn", "w.csv").stdout
    check(float(field(out, "accuracy").split()[0]) >= 0.9, out)
    check(re.search(r"^setosa\s+1\.0000\s+1\.0000\s+50$", out, re.M), out)
    check(re.search(r"^true\\pred\s+setosa\s+versicolor\s+virginica$", out,
                    re.M), out)
    pred = list(csv.reader(run("predict", "w.nn", "w.csv").stdout
                           .splitlines()))
    check(pred[0] == ["class", "p_setosa", "p_versicolor", "p_virginica"],
          pred[0])
    right = sum(row[0] == words[c] for row, c in zip(pred[1:], labels))
    check(right >= 135, "%d of 150 predicted names right" % right)
    info = run("info", "w.nn").stdout
    check(field(info, "classes") == "setosa, versicolor, virginica", info)
    check(field(info, "label") == "species", info)
    check(field(info, "features") == "a, b, c, d", info)

    # 1-based integers (UCI style): classes 1, 2, 3 by value, no phantom
    (WORK / "u.csv").write_text("".join(
        ",".join("%.4f" % v for v in r) + ",%d\n" % (c + 1)
        for r, c in zip(rows, labels)))
    p = run("train", "u.csv", "--epochs", "30", "--lr", "0.02", "-o", "u.nn")
    check(first_line(p) == "classification, 3 classes: 1, 2, 3", p.stdout)
    out = run("eval", "u.nn", "u.csv").stdout
    check(len(re.findall(r"^[123]\s+\d", out, re.M)) == 6, out)
    # numbers sort by value, not as text; "2.0" is the class "2"
    (WORK / "n.csv").write_text("x,y\n" + "".join(
        "%d,%s\n" % (i, ["10", "9", "2.0"][i % 3]) for i in range(30)))
    p = run("train", "n.csv", "--epochs", "1", "-o", "n.nn")
    check(first_line(p) == "classification, 3 classes: 2, 9, 10", p.stdout)
    # digits 0-9 classify; fractions and 300 distinct integers regress
    for name, values, want in (
            ("digits", [i % 10 for i in range(200)],
             "classification, 10 classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9"),
            ("frac", [i / 7 for i in range(200)],
             "regression, 1 target: y"),
            ("score", [25 + (i * 37) % 300 for i in range(400)],
             "regression, 1 target: y")):
        (WORK / (name + ".csv")).write_text("a,b,y\n" + "".join(
            "%d,%d,%s\n" % (i % 7, i % 5, v) for i, v in enumerate(values)))
        p = run("train", name + ".csv", "--epochs", "1", "-o", name + ".nn")
        check(first_line(p) == want, "%s: %s" % (name, p.stdout))
    p = run("train", "digits.csv", "--task", "regress", "--epochs", "1",
            "-o", "d.nn")
    check(first_line(p) == "regression, 1 target: y", p.stdout)
    p = run("train", "score.csv", "--task", "classify", "--epochs", "1",
            "-o", "s.nn")
    check(first_line(p).startswith("classification, 300 classes: 25, 26,"),
          p.stdout)
    # two classes with one sigmoid output: binary cross-entropy
    (WORK / "bin.csv").write_text("a,b,ok\n" + "".join(
        "%.3f,%.3f,%s\n" % (r[0], r[1], "yes" if c else "no")
        for r, c in zip(rows, labels)))
    run("train", "bin.csv", "--layers", "2,8,1", "--epochs", "60", "--lr",
        "0.02", "-o", "bin.nn", "-q")
    info = run("info", "bin.nn").stdout
    check(field(info, "loss") == "binary cross-entropy" and
          field(info, "task") == "classification" and
          field(info, "classes") == "no, yes", info)
    out = run("eval", "bin.nn", "bin.csv").stdout
    check(float(field(out, "accuracy").split()[0]) >= 0.9, out)
    pred = run("predict", "bin.nn", "bin.csv").stdout.splitlines()
    check(pred[0] == "class,p_no,p_yes", pred[0])
    check(all(r.split(",")[0] == ("yes" if float(r.split(",")[2]) > 0.5
                                  else "no") for r in pred[1:]), "binary")
    # a label the model does not know
    (WORK / "odd.csv").write_text("a,b,c,d,species\n1,2,3,4,rose\n")
    bad_case({}, ["eval", "w.nn", "odd.csv"], 1,
             "nnet: odd.csv:2:5: label 'rose' is not one of the 3 classes "
             "(setosa, versicolor, virginica)")


@test
def test_sizes_from_data():
    """--hidden gives the hidden layers, the data the rest; --layers is
    checked against the data."""
    rows, labels = mkdata.blobs(90, seed=9)
    mkdata.write_csv(WORK / "b.csv", rows, labels,
                     header=["a", "b", "c", "d", "k"])
    p = run("train", "b.csv", "--hidden", "7,5", "--epochs", "2", "-o",
            "b.nn")
    check("training 4-7-5-3 (classifier, %d parameters)"
          % (4 * 7 + 7 + 7 * 5 + 5 + 5 * 3 + 3) in p.stdout, p.stdout)
    p = run("train", "b.csv", "--epochs", "2", "-o", "c.nn")
    check("training 4-100-3 (classifier" in p.stdout, p.stdout)
    rows, ys = mkdata.linear(50)
    mkdata.write_csv(WORK / "r.csv", rows, ys, header=["p", "q", "price"])
    p = run("train", "r.csv", "--hidden", "6", "--epochs", "2", "-o", "r.nn")
    check(first_line(p) == "regression, 1 target: price", p.stdout)
    check("training 2-6-1 (regression" in p.stdout, p.stdout)
    bad_case({}, ["train", "b.csv", "--layers", "4,8,2", "-o", "m.nn"], 1,
             "nnet: b.csv: 3 classes (0, 1, 2), but --layers gives 2 "
             "outputs")
    bad_case({}, ["train", "b.csv", "--layers", "3,8,3", "-o", "m.nn"], 1,
             "nnet: b.csv: 4 input values per sample, but --layers asks "
             "for 3")


@test
def test_names_kept():
    """The model finds its columns by name: reordered columns are matched,
    the label is found without --label (it was the first column), a
    missing or extra column is an error naming it."""
    rows, ys = mkdata.linear(300)
    (WORK / "h.csv").write_text("price,area,age\n" + "".join(
        "%.5f,%.5f,%.5f\n" % (y, r[0], r[1]) for r, y in zip(rows, ys)))
    run("train", "h.csv", "--label", "price", "--hidden", "16", "--epochs",
        "60", "--lr", "0.01", "-o", "h.nn", "-q")
    out = run("eval", "h.nn", "h.csv").stdout
    r2 = float(out.splitlines()[-1].split()[3])
    check(r2 > 0.99, "r2 %.4f without --label:\n%s" % (r2, out))
    # the same rows, columns in another order: the same predictions
    (WORK / "o.csv").write_text("age,price,area\n" + "".join(
        "%.5f,%.5f,%.5f\n" % (r[1], y, r[0]) for r, y in zip(rows, ys)))
    check(run("eval", "h.nn", "o.csv").stdout.splitlines()[2:] ==
          out.splitlines()[2:], "reordered columns")
    a = run("predict", "h.nn", "h.csv").stdout
    check(a.splitlines()[0] == "price", a[:40])
    check(run("predict", "h.nn", "o.csv").stdout == a, "predict reordered")
    (WORK / "x.csv").write_text("area,age\n" + "".join(
        "%.5f,%.5f\n" % (r[0], r[1]) for r in rows))
    check(run("predict", "h.nn", "x.csv").stdout == a, "predict unlabelled")
    bad_case({"m.csv": "price,area\n1,2\n"}, ["eval", "h.nn", "m.csv"], 1,
             "nnet: m.csv has no column 'age', an input of the model")
    bad_case({"e.csv": "price,area,age,id\n1,2,3,4\n"},
             ["eval", "h.nn", "e.csv"], 1,
             "nnet: e.csv: column 'id' is not an input of the model (skip "
             "it with --ignore 'id')")
    check("r2" in run("eval", "h.nn", "e.csv", "--ignore", "id").stdout,
          "--ignore the extra column")
    bad_case({"n.csv": "area,age\n1,2\n"}, ["eval", "h.nn", "n.csv"], 1,
             "nnet: n.csv has no column 'price', the model's label column "
             "(give --label COL)")
    bad_case({"dup.csv": "price,area,age,age\n1,2,3,4\n"},
             ["eval", "h.nn", "dup.csv"], 1,
             "nnet: dup.csv: two columns are named 'age' (an input of the "
             "model): rename one, or --ignore one by its index")
    bad_case({"dup2.csv": "x,x,y\n1,2,0\n3,4,1\n"},
             ["train", "dup2.csv", "-o", "m.nn"], 1,
             "nnet: dup2.csv: two columns are named 'x' (both inputs): "
             "rename one, or --ignore one by its index")
    bad_case({"dup3.csv": "x,x,y\n1,2,0\n3,4,1\n"},
             ["train", "dup3.csv", "--label", "x", "-o", "m.nn"], 1,
             "nnet: --label x: dup3.csv has 2 columns of that name (0 and 1, "
             "counting from 0)")
    # JSON
    import json
    info = json.loads(run("info", "h.nn", "--json").stdout)
    check(info["label"] == "price" and info["features"] == ["area", "age"]
          and info["task"] == "regression" and info["classes"] == [] and
          info["layers"] == [2, 16, 1], info)
    ev = json.loads(run("eval", "h.nn", "h.csv", "--json").stdout)
    check(ev["samples"] == 300 and ev["outputs"][0]["r2"] > 0.99 and
          ev["layers"] == [2, 16, 1] and ev["task"] == "regression", ev)


@test
def test_csv_rfc4180():
    """Quoted fields with delimiters, quotes and line breaks; ';' and tab
    detected, or --delimiter; .tsv; CR line ends; stdin; --ignore;
    missing values dropped with --na drop: all read as the same table."""
    rows, labels = mkdata.blobs(60, seed=10)
    names = ['len, "cm"', "wid\ncm", "c", "d"]
    species = ["a, b", 'say "x"', "multi\nline"]

    def cell(text, delim):
        if any(ch in text for ch in (delim, '"', "\n")):
            return '"%s"' % text.replace('"', '""')
        return text

    def table(delim, eol, extra=False):
        head = ["id"] + names + ["species"]
        lines = [delim.join(cell(h, delim) for h in head)]
        for i, (r, c) in enumerate(zip(rows, labels)):
            cells = [str(i)] + ["%.4f" % v for v in r] + [species[c]]
            lines.append(delim.join(cell(x, delim) for x in cells))
        if extra:
            lines.insert(3, delim.join(cell(x, delim) for x in
                                       ["99", "NA", "1", "2", "3", "a, b"]))
        return eol.join(lines) + eol

    (WORK / "comma.csv").write_text(table(",", "\r\n"), newline="")
    common = ["--ignore", "id", "--epochs", "3", "--seed", "4", "-q"]
    run("train", "comma.csv", "-o", "ref.nn", *common)
    ref = (WORK / "ref.nn").read_bytes()
    info = run("info", "ref.nn").stdout
    check(field(info, "classes") == r'"a, b", "multi\nline", "say \"x\""',
          info)
    variants = {"semi.csv": table(";", "\n"), "tab.tsv": table("\t", "\n"),
                "tab.txt": table("\t", "\n"), "cr.csv": table(",", "\r"),
                "pipe.csv": table("|", "\n"),
                "na.csv": table(",", "\n", extra=True)}
    for name, text in variants.items():
        (WORK / name).write_text(text, newline="")
    for name, extra in (("semi.csv", []), ("tab.tsv", []),
                        ("tab.txt", ["--delimiter", "tab"]),
                        ("cr.csv", []), ("pipe.csv", ["--delimiter", "|"]),
                        ("na.csv", ["--na", "drop"])):
        run("train", name, "-o", "v.nn", *common, *extra)
        check((WORK / "v.nn").read_bytes() == ref,
              "%s trains another model" % name)
    p = subprocess.run([NN, "train", "-", "-o", "stdin.nn", *common],
                       cwd=WORK, input=table(",", "\n"), text=True,
                       capture_output=True)
    check(p.returncode == 0 and (WORK / "stdin.nn").read_bytes() == ref,
          "stdin: %s" % p.stderr)
    p = subprocess.run([NN, "predict", "ref.nn", "-", "--ignore", "id"],
                       cwd=WORK,
                       input=table(",", "\n"), text=True, capture_output=True)
    check(p.returncode == 0 and
          len(list(csv.reader(io_lines(p.stdout)))) == 61, p.stderr)
    # line 5: the header takes lines 1 and 2 (a name holds a line break)
    bad_case({}, ["train", "na.csv", "-o", "m.nn", *common], 1,
             "nnet: na.csv:5:2: 'NA' in column 'len, \"cm\"' is a missing "
             "value (--na drop skips rows with missing values)")
    bad_case({}, ["train", "comma.csv", "--ignore", "nope", "-o", "m.nn"],
             2, "nnet train: --ignore nope: comma.csv has no column of that "
             "name, and indices run 0..5")
    # predict names the class even when it needs quotes
    pred = list(csv.reader(io_lines(run("predict", "ref.nn",
                                        "comma.csv", "--ignore",
                                        "id").stdout)))
    check(pred[0][1:] == ["p_a, b", "p_multi\nline", 'p_say "x"'], pred[0])
    check(len(pred) == 61 and all(r[0] in species for r in pred[1:]),
          "predicted names")


@test
def test_continue_and_validate():
    """--init continues a model: two runs of 10 epochs write the same file
    as one of 20, bit for bit (optimizer state, schedule, generator and
    dropout resumed); --val validates on a file of its own."""
    rows, labels = mkdata.blobs(120, seed=12)
    words = ["a", "b", "c"]
    (WORK / "t.csv").write_text("id,w,x,y,z,kind\n" + "".join(
        "%d,%s,%s\n" % (i, ",".join("%.4f" % v for v in r), words[c])
        for i, (r, c) in enumerate(zip(rows, labels))))
    vrows, vlabels = mkdata.blobs(45, seed=13)
    (WORK / "v.csv").write_text("kind,z,y,x,w\n" + "".join(
        "%s,%s\n" % (words[c], ",".join("%.4f" % v for v in reversed(r)))
        for r, c in zip(vrows, vlabels)))
    common = ["--ignore", "id", "--optimizer", "momentum", "--lr", "0.02",
              "--dropout", "0.2", "--schedule", "cosine", "--t-max", "20",
              "--batch", "16", "-q"]
    run("train", "t.csv", "--epochs", "20", "-o", "full.nn", *common)
    run("train", "t.csv", "--epochs", "10", "-o", "half.nn", *common)
    p = run("train", "t.csv", "--ignore", "id", "--init", "half.nn",
            "--epochs", "10", "-o", "two.nn")
    check("continuing half.nn (10 epochs trained)" in p.stdout, p.stdout)
    check((WORK / "two.nn").read_bytes() == (WORK / "full.nn").read_bytes(),
          "10 + 10 epochs differ from 20")
    info = run("info", "two.nn").stdout
    check(field(info, "epochs trained") == "20" and
          field(info, "optimizer") == "momentum (momentum 0.9)" and
          field(info, "learning rate").startswith("0.02 ") and
          field(info, "dropout") == "0.2", info)
    # a setting given replaces the model's
    run("train", "t.csv", "--ignore", "id", "--init", "half.nn", "--epochs",
        "1", "--lr", "0.005", "-o", "lr.nn", "-q")
    check(field(run("info", "lr.nn").stdout, "learning rate")
          .startswith("0.005 "), "--lr with --init")
    # the model's names and classes hold for the data
    bad_case({"other.csv": "w,x,y,q,kind\n1,2,3,4,a\n"},
             ["train", "other.csv", "--init", "half.nn", "-o", "m.nn"], 1,
             "nnet: other.csv has no column 'z', an input of the model")
    bad_case({"new.csv": "w,x,y,z,kind\n1,2,3,4,d\n"},
             ["train", "new.csv", "--init", "half.nn", "-o", "m.nn"], 1,
             "nnet: new.csv:2:5: label 'd' is not one of the 3 classes "
             "(a, b, c)")
    bad_case({}, ["train", "t.csv", "--init", "half.nn", "--hidden", "4",
                  "-o", "m.nn"], 2,
             "nnet train: --init MODEL keeps the model's layers: leave out "
             "--layers and --hidden")
    bad_case({}, ["train", "t.csv", "--init", "half.nn", "--task",
                  "regress", "-o", "m.nn"], 2,
             "nnet train: --init MODEL keeps the model's task and input "
             "transform: leave out --task and --no-standardize")
    p = run("train", "t.csv", "--init", "nope.nn", "-o", "m.nn", rc=1)
    check("nope.nn" in p.stderr, p.stderr)
    no_leftovers("m.nn")

    # --val FILE: its columns found by name, the id column absent there
    p = run("train", "t.csv", "--ignore", "id", "--epochs", "30", "--lr",
            "0.02", "--val", "v.csv", "--early-stop", "5", "--log",
            "log.csv", "-o", "val.nn")
    check("validating on 45 of v.csv" in p.stdout, p.stdout)
    log = list(csv.DictReader(open(WORK / "log.csv")))
    check(all(r["val_loss"] for r in log), "validation losses logged")
    out = run("eval", "val.nn", "v.csv").stdout
    best = min(float(r["val_loss"]) for r in log)
    check(abs(float(field(out, "loss")) - best) <= 1e-4 * max(1, best),
          "the saved model is the best epoch's: %s vs %s" %
          (field(out, "loss"), best))
    bad_case({"bv.csv": "kind,z,y,x\na,1,2,3\n"},
             ["train", "t.csv", "--ignore", "id", "--val", "bv.csv", "-o",
              "m.nn"], 1,
             "nnet: bv.csv has no column 'w', an input of the model")
    bad_case({}, ["train", "t.csv", "--val", "v.csv", "--val-split", "0.2",
                  "-o", "m.nn"], 2,
             "nnet train: --val FILE and --val-split: give one of them")


def io_lines(text):
    import io
    return io.StringIO(text)


def main():
    global NN, WORK
    if sys.argv[1:] == ["--list"]:
        print("\n".join(TESTS))
        return
    if sys.argv[1:2] == ["--check-list"]:
        listed = sys.argv[2:]
        if sorted(listed) != sorted(TESTS):
            sys.exit("tests/cli/meson.build lists %s; test_cli.py has %s" %
                     (sorted(listed), sorted(TESTS)))
        return
    if len(sys.argv) != 3 or sys.argv[2] not in TESTS:
        sys.exit("usage: test_cli.py NN_PROGRAM TEST (one of: %s)" %
                 ", ".join(TESTS))
    NN = os.path.abspath(sys.argv[1])
    with tempfile.TemporaryDirectory(prefix="nn-cli-") as tmp:
        WORK = Path(tmp)
        try:
            TESTS[sys.argv[2]]()
        except Failure as e:
            print("FAIL: %s" % e, file=sys.stderr)
            sys.exit(1)
    print("ok: %s" % sys.argv[2])


if __name__ == "__main__":
    main()
