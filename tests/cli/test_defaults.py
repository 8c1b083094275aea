# SPDX-License-Identifier: MIT
"""`nnet train` without options does well on small tables, and tells
classification from regression as a user expects (meson test
cli/defaults_small_data).

Usage: test_defaults.py NN_PROGRAM

Iris, Wine and Breast Cancer (scikit-learn's copies, offline in Debian's
python3-sklearn) are split 75/25, stratified, as train_test_split
(random_state=0) splits them, and written as CSV with their feature names
and class names as words. `nnet train TRAIN.csv -o M` with no other option
must reach, on the test rows, at least scikit-learn's MLPClassifier() with
its defaults on the same split, less 0.03 (one or two test samples).
Digits' 0-9 are classes; the diabetes progression score (214 distinct
integers) is a regression's target.
"""
import os
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from sklearn.datasets import (load_breast_cancer, load_diabetes,
                              load_digits, load_iris, load_wine)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier


def write_csv(path, data, x, y):
    with open(path, "w") as f:
        f.write(",".join(list(data.feature_names) + ["target"]) + "\n")
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + ","
                    + str(data.target_names[label]) + "\n")


def task_line(nn, work, data, labels):
    """The first line `nnet train` prints for a table of data and labels."""
    with open(work / "t.csv", "w") as f:
        f.write(",".join("x%d" % j for j in range(data.shape[1])) + ",y\n")
        for row, label in zip(data, labels):
            f.write(",".join(repr(float(v)) for v in row) + ",%s\n"
                    % (int(label) if float(label).is_integer() else label))
    out = subprocess.run([nn, "train", "t.csv", "--epochs", "1", "-o",
                          "t.nn"], cwd=work, check=True, capture_output=True,
                         text=True, timeout=300).stdout
    return out.splitlines()[0]


def check_tasks(nn, work):
    digits = load_digits()
    got = task_line(nn, work, digits.data, digits.target)
    want = "classification, 10 classes: " + ", ".join(map(str, range(10)))
    diabetes = load_diabetes()
    got_d = task_line(nn, work, diabetes.data, diabetes.target)
    print("digits: %s\ndiabetes: %s" % (got, got_d))
    return got == want and got_d == "regression, 1 target: y"


def main():
    nn = os.path.abspath(sys.argv[1])
    failed = []
    with tempfile.TemporaryDirectory(prefix="nn-defaults-") as tmp:
        work = Path(tmp)
        for name, load in (("iris", load_iris), ("wine", load_wine),
                           ("breast_cancer", load_breast_cancer)):
            data = load()
            xtr, xte, ytr, yte = train_test_split(
                data.data, data.target, random_state=0, stratify=data.target)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                want = MLPClassifier(random_state=0).fit(xtr, ytr).score(
                    xte, yte)
            write_csv(work / "train.csv", data, xtr, ytr)
            write_csv(work / "test.csv", data, xte, yte)
            subprocess.run([nn, "train", "train.csv", "-o", "m.nn", "-q"],
                           cwd=work, check=True, timeout=300)
            out = subprocess.run([nn, "eval", "m.nn", "test.csv"], cwd=work,
                                 check=True, capture_output=True, text=True,
                                 timeout=300).stdout
            got = float(re.search(r"^accuracy\s+(\S+)", out, re.M).group(1))
            print("%-14s nnet %.4f, MLPClassifier() %.4f" % (name, got, want))
            if got < want - 0.03:
                failed.append("%s below MLPClassifier() - 0.03" % name)
        if not check_tasks(nn, work):
            failed.append("the task of digits or diabetes")
    if failed:
        sys.exit("FAIL: %s" % ", ".join(failed))


if __name__ == "__main__":
    main()
