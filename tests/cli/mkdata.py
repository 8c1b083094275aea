# SPDX-License-Identifier: MIT
"""Small data sets for the `nnet` tool's tests, in every format it reads.

Standard library only. Each generator is seeded, so a test sees the same
numbers on every run; the writers produce CSV, IDX (optionally gzipped)
and NumPy .npy byte for byte as their specifications say.

Run as a script to write the data sets that docs/cli.md uses into a
directory:  python3 mkdata.py DIR
"""
import gzip
import random
import struct
import sys
from pathlib import Path

CENTRES = [(0.0, 0.0, 5.0, 1.0), (4.0, 4.0, 0.0, 2.0), (-4.0, 4.0, 2.0, -3.0)]


def blobs(n=300, seed=1, offset=0.0, spread=1.0):
    """Three well separated classes of 4 features: (rows, labels)."""
    rng = random.Random(seed)
    rows, labels = [], []
    for i in range(n):
        c = i % 3
        rows.append([offset + v + rng.gauss(0, spread) for v in CENTRES[c]])
        labels.append(c)
    return rows, labels


def linear(n=400, seed=2):
    """y = 3 a - 2 b + 0.5 plus a little noise: (rows, targets)."""
    rng = random.Random(seed)
    rows, ys = [], []
    for _ in range(n):
        a, b = rng.uniform(-2, 2), rng.uniform(-2, 2)
        rows.append([a, b])
        ys.append(3 * a - 2 * b + 0.5 + rng.gauss(0, 0.05))
    return rows, ys


def write_csv(path, rows, labels=None, header=None, label_first=False):
    with open(path, "w") as f:
        if header:
            f.write(",".join(header) + "\n")
        for i, row in enumerate(rows):
            cells = ["%.6g" % v for v in row]
            if labels is not None:
                lab = "%.6g" % labels[i]
                cells = [lab] + cells if label_first else cells + [lab]
            f.write(",".join(cells) + "\n")


IDX_TYPES = {"u8": (0x08, "B"), "i8": (0x09, "b"), "i16": (0x0B, "h"),
             "i32": (0x0C, "i"), "f32": (0x0D, "f"), "f64": (0x0E, "d")}


def idx_bytes(values, dims, dtype="u8"):
    """An IDX file: magic, big-endian dimensions, big-endian values."""
    code, fmt = IDX_TYPES[dtype]
    head = bytes([0, 0, code, len(dims)]) + struct.pack(">%dI" % len(dims),
                                                        *dims)
    return head + struct.pack(">%d%s" % (len(values), fmt), *values)


def write_idx(path, values, dims, dtype="u8", gz=False):
    data = idx_bytes(values, dims, dtype)
    if gz:
        data = gzip.compress(data, mtime=0)
    Path(path).write_bytes(data)


NPY_TYPES = {"<f4": "f", "<f8": "d", ">f8": "d", "<i8": "q", "|u1": "B",
             "<i4": "i", "|b1": "?"}


def npy_bytes(values, shape, descr="<f4", fortran=False):
    """A version-1.0 .npy file; `values` in C order unless `fortran`."""
    shape_text = "(%s)" % "".join("%d," % d for d in shape) if len(shape) == 1 \
        else "(%s)" % ", ".join(str(d) for d in shape)
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape_text)
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    order = ">" if descr[0] == ">" else "<"
    body = struct.pack("%s%d%s" % (order, len(values), NPY_TYPES[descr]),
                       *values)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + \
        header.encode("latin1") + body


def write_npy(path, values, shape, descr="<f4", fortran=False):
    Path(path).write_bytes(npy_bytes(values, shape, descr, fortran))


def flat(rows):
    return [v for row in rows for v in row]


SPECIES = ["setosa", "versicolor", "virginica"]
FLOWER_COLUMNS = ["sepal length, cm", "sepal width, cm", "petal length, cm",
                  "petal width, cm"]


def csv_cell(text):
    """A CSV cell, quoted as RFC 4180 asks when it holds a comma."""
    return '"%s"' % text.replace('"', '""') if "," in text else text


def write_flowers(path, n, seed, ids=True, species=True, order=None,
                  eol="\r\n"):
    """A table as people download them: quoted header names with commas,
    an id column, class names as words, CRLF line ends. `order` reorders
    the columns by index (id excluded)."""
    rows, labels = blobs(n, seed=seed, offset=3.0, spread=1.8)
    names = FLOWER_COLUMNS + (["species"] if species else [])
    table = [["%.1f" % v for v in row] + ([SPECIES[c]] if species else [])
             for row, c in zip(rows, labels)]
    if order:
        names = [names[k] for k in order]
        table = [[row[k] for k in order] for row in table]
    if ids:
        names = ["id"] + names
        table = [[str(i + 1)] + row for i, row in enumerate(table)]
    with open(path, "w", newline="") as f:
        for cells in [names] + table:
            f.write(",".join(csv_cell(c) for c in cells) + eol)


def docs_data(directory):
    """The files docs/cli.md's examples read."""
    d = Path(directory)
    write_flowers(d / "flowers.csv", 150, seed=5)
    write_flowers(d / "flowers-test.csv", 60, seed=6, ids=False,
                  order=[4, 2, 3, 0, 1])
    write_flowers(d / "flowers-new.csv", 5, seed=7, ids=False,
                  species=False)
    rows, labels = blobs(300, seed=1, spread=1.8)
    write_csv(d / "blobs.csv", rows, labels,
              header=["sepal", "petal", "stem", "leaf", "species"])
    rows, ys = linear(400, seed=2)
    write_csv(d / "houses.csv", rows, ys, header=["area", "age", "price"])
    test_rows, test_labels = blobs(90, seed=3, spread=1.8)
    write_csv(d / "new.csv", test_rows,
              header=["sepal", "petal", "stem", "leaf"])
    write_csv(d / "blobs-test.csv", test_rows, test_labels,
              header=["sepal", "petal", "stem", "leaf", "species"])
    # the same kind of data as MNIST-style IDX and as .npy
    rows, labels = blobs(300, seed=4)
    pix = [min(255, max(0, int(20 * (v + 6)))) for v in flat(rows)]
    write_idx(d / "images.idx.gz", pix, [300, 2, 2], gz=True)
    write_idx(d / "labels.idx", labels, [300])
    write_npy(d / "x.npy", flat(rows), [300, 4])
    write_npy(d / "y.npy", labels, [300], descr="<i8")
    Path(d / "bad.csv").write_text(
        "sepal,petal,stem,leaf,species\n"
        "0.1,0.2,5.1,1.0,0\n"
        "4.2,3.9,abc,2.1,1\n")


if __name__ == "__main__":
    docs_data(sys.argv[1] if len(sys.argv) > 1 else ".")
