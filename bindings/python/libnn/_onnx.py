# SPDX-License-Identifier: MIT
"""The companion library libnn_onnx.so.0 (include/nn_onnx.h), loaded on
first use by Network.to_onnx and Network.from_onnx.

It is found through NN_ONNX_LIBRARY if set (and only it), else beside the
libnn it belongs to, else by ctypes.util.find_library('nn_onnx'), else by
its soname.  It must be the libnn_onnx of the libnn already loaded: the
two share network handles.
"""

import ctypes
import ctypes.util
import os

from . import _lib
from .errors import make_error

_FILE_NAMES = ("libnn_onnx.so.0", "libnn_onnx.0.dylib", "nn_onnx.dll")
_loaded = None


def _candidates():
    explicit = os.environ.get("NN_ONNX_LIBRARY")
    if explicit:
        yield explicit
        return
    here = os.path.dirname(os.path.abspath(_lib.library_path))
    for name in _FILE_NAMES:
        path = os.path.join(here, name)
        if os.path.exists(path):
            yield path
    found = ctypes.util.find_library("nn_onnx")
    if found:
        yield found
    yield "libnn_onnx.so.0"


def _check(result, func, _args):
    if result < 0:
        detail = _loaded.nn_onnx_last_error().decode("utf-8", "replace")
        raise make_error(result, detail, func.__name__)
    return result


def library():
    """The loaded libnn_onnx, its functions declared; ImportError if it
    cannot be found (libnn was built without libprotobuf-c)."""
    global _loaded
    if _loaded is not None:
        return _loaded
    tried = []
    for where in _candidates():
        try:
            lib = ctypes.CDLL(where)
            lib.nn_onnx_save  # noqa: B018 -- is this libnn_onnx at all?
            break
        except (OSError, AttributeError) as exc:
            tried.append(f"  {where}: {exc}")
    else:
        raise ImportError(
            "libnn: ONNX support needs libnn_onnx.so.0 (built with libnn "
            "when libprotobuf-c is found). Tried:\n" + "\n".join(tried)
            + "\nSet NN_ONNX_LIBRARY to its path.")
    lib.nn_onnx_last_error.restype = ctypes.c_char_p
    lib.nn_onnx_last_error.argtypes = []
    for name, argtypes in (
            ("nn_onnx_save", [_lib.net_p, ctypes.c_char_p]),
            ("nn_onnx_load", [_lib.net_pp, ctypes.c_char_p])):
        func = getattr(lib, name)
        func.restype = ctypes.c_int
        func.argtypes = argtypes
        func.errcheck = _check
    _loaded = lib
    return lib
