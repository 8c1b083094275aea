# SPDX-License-Identifier: MIT
"""libnn: Python bindings of the libnn multilayer-perceptron library.

A pure-Python (ctypes) package over ``libnn.so.0``::

    import numpy as np
    import libnn

    net = libnn.Network([2, 3, 1], ["sigmoid", "sigmoid"], bias=False,
                        seed=42, learning_rate=0.5)
    net.train(x, y, epochs=100)
    y_hat = net.predict(x)

The library is found through the ``NN_LIBRARY`` environment variable, then
beside this package, then in the libdir ``meson install`` recorded, then
``ctypes.util.find_library('nn')``, then
pkg-config's libdir, then the soname.  ``MLPClassifier`` and
``MLPRegressor`` are scikit-learn estimators: they need scikit-learn
(Debian: python3-sklearn) and are imported on first use, so that the rest
needs numpy only.  See docs/python.md.
"""

from . import _lib
from ._version import __version__
from .errors import (NNError, NNFormatError, NNIOError, NNMemoryError,
                     NNNumericError, NNShapeError, NNStateError,
                     NNValueError)
from .network import Network

#: Path or name the shared library was loaded from.
library_path = _lib.library_path

#: Names accepted in ``Network(..., activations)``.
ACTIVATIONS = tuple(_lib.ACTIVATIONS)
#: Names accepted by ``Network.optimizer``.
OPTIMIZERS = tuple(_lib.OPTIMIZERS)
#: Names accepted by ``Network.loss``.
LOSSES = tuple(_lib.LOSSES)


def library_version():
    """Version of the loaded library, as a string "MAJOR.MINOR.PATCH"."""
    return _lib.nn_version_string().decode()


def library_version_info():
    """Version of the loaded library, as a tuple (major, minor, patch)."""
    return _lib.version_tuple()


def build_info():
    """How the loaded library was built and what it runs on, as a dict of
    the "key: value" lines of ``nn_build_info()``: ``libnn`` (version),
    ``backend`` (oneDNN or CBLAS), ``kernels`` (instruction set or OpenBLAS
    core), ``threads``, with OpenBLAS on a CPU that can run faster
    kernels than it picked, ``better-kernels`` (the environment setting
    that selects them), and ``inference-kernels`` (the blocks of libnn's
    own batch-invariant product on this CPU)."""
    lines = _lib.nn_build_info().decode().splitlines()
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def _warn_slow_kernels():
    # Said once, at import: OpenBLAS has already chosen its kernels, and
    # only a process started with the setting gets the faster ones.
    info = build_info()
    fix = info.get("better-kernels")
    if fix:
        import warnings
        warnings.warn(
            f"libnn: OpenBLAS runs its {info.get('kernels')} kernels "
            f"but this CPU can run faster ones: start Python with {fix} in "
            f"the environment", RuntimeWarning, stacklevel=3)


_warn_slow_kernels()


def error_name(code):
    """The library's name for an error code, e.g. ``"NN_EINVAL"``."""
    return _lib.nn_error_name(code).decode()


def error_string(code):
    """The library's text for an error code, e.g. ``"invalid argument"``."""
    return _lib.nn_error_string(code).decode()


_ESTIMATORS = ("MLPClassifier", "MLPRegressor")


def __getattr__(name):
    # The estimators import scikit-learn: only on first use, so that the
    # rest of libnn imports without it. Without it this is estimators.py's
    # ImportError, which says what to install.
    if name in _ESTIMATORS:
        from . import estimators
        return getattr(estimators, name)
    raise AttributeError(f"module 'libnn' has no attribute {name!r}")


def _listed_estimators():
    """The estimators, where scikit-learn is there to import them: dir()
    and `from libnn import *` name them only then, so that both work
    without it."""
    import importlib.util
    return list(_ESTIMATORS) if importlib.util.find_spec("sklearn") else []


def __dir__():
    return sorted(list(globals()) + _listed_estimators())


__all__ = [
    "Network",
    "NNError", "NNValueError", "NNMemoryError", "NNShapeError",
    "NNStateError", "NNIOError", "NNFormatError", "NNNumericError",
    "ACTIVATIONS", "OPTIMIZERS", "LOSSES", "library_path",
    "library_version", "library_version_info", "build_info", "error_name",
    "error_string",
    "__version__",
] + _listed_estimators()
