#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The includes of tools/ run downhill: the layering tools/cli.h describes.

Every header of tools/ says "Layer N of tools/" at its top, and cli.h
lists the layers. A module is a header and the files that define what it
declares (X.c for X.h, and the files MODULE_OF names). Fails when the
list and the headers disagree, when a file includes a header of a higher
layer than its own, or when the includes between modules run in a circle.

    check-tool-layers.py TOOLS_DIR
"""
import pathlib
import re
import sys

# Sources whose header has another name; nnet.c, the dispatcher, is on top.
MODULE_OF = {
    "csv.c": "formats.h", "idx.c": "formats.h", "npy.c": "formats.h",
    "targets.c": "inputs.h", "plot.c": "history.h",
    "export_c.c": "export.h", "fit_mpi.c": "fit.h",
    "train_args.c": "train.h", "eval.c": "commands.h",
    "predict.c": "commands.h", "info.c": "commands.h",
    "export.c": "commands.h", "import.c": "commands.h",
    "nnet.c": None,
}
TOP = 7
LAYER = re.compile(r"^ \* Layer (\d+) of tools/", re.M)
# cli.h's list: " *   5. model.h, inputs.h, ...: what they are"
LISTED = re.compile(r"^ \*   (\d+)\. ((?:[\w.]+\.[ch][,:]? *(?:\n \*      )?)+)",
                    re.M)
INCLUDE = re.compile(r'^#include "([^"]+)"', re.M)


def main():
    tools = pathlib.Path(sys.argv[1])
    errors = []
    layer = {}
    for h in sorted(tools.glob("*.h")):
        m = LAYER.search(h.read_text()[:600])
        if not m:
            errors.append(f"{h.name}: no 'Layer N of tools/' line at its top")
        layer[h.name] = int(m.group(1)) if m else TOP
    listed = set()
    for n, names in LISTED.findall((tools / "cli.h").read_text()):
        for name in re.findall(r"[\w]+\.h", names):
            listed.add(name)
            if layer.get(name) != int(n):
                errors.append(f"cli.h lists {name} in layer {n}, its own "
                              f"top says {layer.get(name)}")
    errors += [f"cli.h does not list {h} among the layers"
               for h in sorted(set(layer) - listed)]
    module = {}
    for f in sorted(tools.glob("*.[ch]")):
        stem = f.name[:-2] + ".h"
        module[f.name] = (f.name if f.suffix == ".h" else
                          MODULE_OF.get(f.name, stem if stem in layer
                                        else "?"))
        if module[f.name] == "?":
            errors.append(f"{f.name}: which header's module? (MODULE_OF)")
    uses = {}  # module -> modules it includes
    for f in sorted(tools.glob("*.[ch]")):
        own = module[f.name]
        own_layer = layer.get(own, TOP)
        for inc in INCLUDE.findall(f.read_text()):
            if inc not in layer:
                continue  # not a header of tools/ (lib/outfile.h)
            if layer[inc] > own_layer:
                errors.append(f"{f.name} (layer {own_layer}) includes "
                              f"{inc} of layer {layer[inc]}, above it")
            if inc != own:
                uses.setdefault(own, set()).add(inc)

    def circle(start, at, path):
        for nxt in sorted(uses.get(at, ())):
            if nxt == start:
                return path + [nxt]
            if nxt not in path:
                found = circle(start, nxt, path + [nxt])
                if found:
                    return found
        return None

    for m in sorted(uses, key=str):
        found = circle(m, m, [m])
        if found:
            errors.append("a circle of includes: " +
                          " -> ".join(str(x) for x in found))
            break
    for e in errors:
        print(e)
    print(f"{len(module)} files of tools/ checked, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
