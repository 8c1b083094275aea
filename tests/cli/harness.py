# SPDX-License-Identifier: MIT
"""What the end-to-end scripts share: a registry of named tests, and the
failure they raise when a check does not hold. Standard library only."""


class Failure(Exception):
    """A check that did not hold; the script prints it and exits 1."""


def check(cond, what):
    if not cond:
        raise Failure(what)


def registry():
    """A dict of tests by name (the function name without `test_`) and the
    decorator that fills it."""
    tests = {}

    def test(fn):
        tests[fn.__name__.replace("test_", "", 1)] = fn
        return fn

    return tests, test
