# SPDX-License-Identifier: MIT
"""Finding libnn.so.0, checking its version, and declaring its functions.

This module owns the ctypes side of the bindings: one declaration line per
C function (argtypes, restype, errcheck), one errcheck per error slot
(the handle's or the calling thread's, as nn.h specifies), and nothing
else.  Everything above it (network.py) calls these module attributes, so a
test can wrap any of them with monkeypatch.
"""

import collections
import ctypes
import ctypes.util
import math
import os
import subprocess

import numpy as np

from .errors import make_error

#: The ABI major version (the soname's, nn.h) these bindings are written for, and the
#: oldest minor version that has every function declared below.
ABI_MAJOR = 0
ABI_MINOR = 3

# Shared-library file names tried beside the package and in pkg-config's
# libdir, most specific first.
_FILE_NAMES = ("libnn.so.0", "libnn.0.dylib", "nn.dll")


def _pkg_config_libdir():
    try:
        out = subprocess.run(["pkg-config", "--variable=libdir", "nn"],
                             capture_output=True, text=True, timeout=10,
                             check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    libdir = out.stdout.strip()
    return libdir if out.returncode == 0 and libdir else None


def _installed_libdir():
    """The directory `meson install` put libnn in, which it records in
    _paths.py beside this module; None for a package from pip or a source
    tree, which have no such file."""
    try:
        from ._paths import LIBDIR
    except ImportError:
        return None
    return LIBDIR


def _candidates():
    """(how it was found, path or name) in discovery order, lazily."""
    here = os.path.dirname(os.path.abspath(__file__))
    for name in _FILE_NAMES:
        path = os.path.join(here, name)
        if os.path.exists(path):
            yield "beside the package", path
    libdir = _installed_libdir()
    if libdir:
        for name in _FILE_NAMES:
            path = os.path.join(libdir, name)
            if os.path.exists(path):
                yield "the libdir meson install recorded", path
    found = ctypes.util.find_library("nn")
    if found:
        yield "ctypes.util.find_library('nn')", found
    libdir = _pkg_config_libdir()
    if libdir:
        for name in _FILE_NAMES:
            path = os.path.join(libdir, name)
            if os.path.exists(path):
                yield "pkg-config's libdir", path
    yield "the soname", "libnn.so.0"


def _load():
    """Load the library: NN_LIBRARY if set (and only it), else the first
    candidate that loads and exports nn_version."""
    explicit = os.environ.get("NN_LIBRARY")
    if explicit:
        try:
            lib = ctypes.CDLL(explicit)
            lib.nn_version  # noqa: B018 -- is this libnn at all?
        except (OSError, AttributeError) as exc:
            raise ImportError(
                f"libnn: NN_LIBRARY={explicit!r} could not be loaded as "
                f"libnn: {exc}") from None
        return lib, explicit
    tried = []
    for how, where in _candidates():
        try:
            lib = ctypes.CDLL(where)
            lib.nn_version  # noqa: B018
        except (OSError, AttributeError) as exc:
            tried.append(f"  {how}: {where}: {exc}")
            continue
        return lib, where
    raise ImportError(
        "libnn: cannot find the shared library libnn.so.0. Tried:\n"
        + "\n".join(tried)
        + "\nSet NN_LIBRARY to its path, e.g. "
        "NN_LIBRARY=build/lib/libnn.so.0 in a build tree.")


lib, library_path = _load()

# --- Types ---------------------------------------------------------------

c_int, c_uint, c_size_t = ctypes.c_int, ctypes.c_uint, ctypes.c_size_t
c_double, c_uint64, c_char_p = ctypes.c_double, ctypes.c_uint64, ctypes.c_char_p
c_float_p = ctypes.POINTER(ctypes.c_float)
net_p = ctypes.c_void_p                       # nn_net * (opaque)
net_pp = ctypes.POINTER(ctypes.c_void_p)      # nn_net ** (out)
size_p = ctypes.POINTER(c_size_t)
double_p = ctypes.POINTER(c_double)
float_pp = ctypes.POINTER(c_float_p)
# Arrays go in as numpy arrays; ndpointer refuses anything that is not
# float32 and C-contiguous (the Python layer converts before calling).
f32_in = np.ctypeslib.ndpointer(np.float32, flags="C_CONTIGUOUS")
f32_out = np.ctypeslib.ndpointer(np.float32, flags="C_CONTIGUOUS,WRITEABLE")
f64_in = np.ctypeslib.ndpointer(np.float64, flags="C_CONTIGUOUS")
f64_out = np.ctypeslib.ndpointer(np.float64, flags="C_CONTIGUOUS,WRITEABLE")
size_out = np.ctypeslib.ndpointer(np.uintp, flags="C_CONTIGUOUS,WRITEABLE")
# Like f32_in, but None passes NULL (optional arrays).
f32_opt = ctypes.c_void_p

#: nn_progress_fn: int (*)(void *user, size_t epoch, size_t step,
#: size_t steps_per_epoch, double cost)
PROGRESS_FN = ctypes.CFUNCTYPE(c_int, ctypes.c_void_p, c_size_t, c_size_t,
                               c_size_t, c_double)
#: nn_epoch_fn: int (*)(void *user, const nn_net *net, size_t epoch)
EPOCH_FN = ctypes.CFUNCTYPE(c_int, ctypes.c_void_p, ctypes.c_void_p, c_size_t)


# --- Error checking -------------------------------------------------------

def _fail(code, net, func):
    detail = lib.nn_last_error(net)
    if net is not None and not detail:
        detail = lib.nn_last_error(None)
    return make_error(code, (detail or b"").decode("utf-8", "replace"),
                      func.__name__)


def _check_handle(result, func, args):
    """Functions taking ``nn_net *``: the detail is in the handle's slot.
    Failures are the negative codes (nn_get_input_transform returns 1 for
    "yes")."""
    if result < 0:
        raise _fail(result, args[0], func)
    return result


def _check_thread(result, func, args):
    """Functions taking ``const nn_net *`` or creating a handle: the detail
    is in the calling thread's slot (nn_last_error(NULL)).  errcheck runs in
    the thread that made the call, so the slot is the right one."""
    if result < 0:
        raise _fail(result, None, func)
    return result


def _declare(name, restype, argtypes, errcheck=None):
    func = getattr(lib, name)
    func.restype = restype
    func.argtypes = argtypes
    if errcheck is not None:
        func.errcheck = errcheck
    return func


# --- Declarations: one line per function of nn.h --------------------------

nn_version = _declare("nn_version", c_uint, [])
nn_version_string = _declare("nn_version_string", c_char_p, [])

# --- Version check: before declaring the rest, which a library of another
# --- ABI may not have.

def version_tuple():
    """(major, minor, patch) of the library actually loaded."""
    v = nn_version()
    return v // 10000, v // 100 % 100, v % 100


_major, _minor, _ = version_tuple()
if _major != ABI_MAJOR or _minor < ABI_MINOR:
    raise ImportError(
        f"libnn: {library_path} is libnn "
        f"{nn_version_string().decode()}, but these bindings need "
        f"{ABI_MAJOR}.{ABI_MINOR} or a later {ABI_MAJOR}.x "
        f"(libnn.so.{ABI_MAJOR}); install bindings matching the library, "
        f"or point NN_LIBRARY at a libnn.so.{ABI_MAJOR} of version "
        f">= {ABI_MAJOR}.{ABI_MINOR}.")

nn_build_info = _declare("nn_build_info", c_char_p, [])
nn_error_string = _declare("nn_error_string", c_char_p, [c_int])
nn_error_name = _declare("nn_error_name", c_char_p, [c_int])
nn_last_error = _declare("nn_last_error", c_char_p, [net_p])
nn_create = _declare("nn_create", c_int, [net_pp, c_size_t, size_p, ctypes.POINTER(c_int), c_uint, c_uint64], _check_thread)
nn_free = _declare("nn_free", None, [net_p])
nn_clone = _declare("nn_clone", c_int, [net_p, net_pp], _check_thread)
nn_set = _declare("nn_set", c_int, [net_p, c_int, c_double], _check_handle)
nn_get = _declare("nn_get", c_int, [net_p, c_int, double_p], _check_thread)
nn_forward = _declare("nn_forward", c_int, [net_p, f32_in, c_size_t, f32_out], _check_handle)
nn_cost = _declare("nn_cost", c_int, [net_p, f32_in, f32_in, c_size_t, double_p], _check_handle)
nn_backprop = _declare("nn_backprop", c_int, [net_p, f32_in, f32_in, c_size_t, double_p], _check_handle)
nn_step = _declare("nn_step", c_int, [net_p], _check_handle)
nn_train = _declare("nn_train", c_int, [net_p, f32_in, f32_in, c_size_t, c_size_t, PROGRESS_FN, ctypes.c_void_p], _check_handle)
nn_fit = _declare("nn_fit", c_int, [net_p, f32_in, f32_in, c_size_t, f32_opt, f32_opt, c_size_t, c_size_t, PROGRESS_FN, EPOCH_FN, ctypes.c_void_p], _check_handle)
nn_shuffle = _declare("nn_shuffle", c_int, [net_p, size_out, c_size_t], _check_handle)
nn_history_len = _declare("nn_history_len", c_size_t, [net_p])
nn_history = _declare("nn_history", c_int, [net_p, c_int, f64_out, c_size_t], _check_thread)
nn_epoch_begin = _declare("nn_epoch_begin", c_int, [net_p], _check_handle)
nn_epoch_end = _declare("nn_epoch_end", c_int, [net_p, f64_in, c_size_t], _check_handle)
nn_history_clear = _declare("nn_history_clear", c_int, [net_p], _check_handle)
nn_epoch_should_stop = _declare("nn_epoch_should_stop", c_int, [net_p, ctypes.POINTER(c_int)], _check_thread)
nn_restore_best_weights = _declare("nn_restore_best_weights", c_int, [net_p], _check_handle)
nn_outputs = _declare("nn_outputs", c_float_p, [net_p, size_p])
nn_set_input_transform = _declare("nn_set_input_transform", c_int, [net_p, f32_opt, f32_opt], _check_handle)
nn_standardize_inputs = _declare("nn_standardize_inputs", c_int, [net_p, f32_in, c_size_t], _check_handle)
nn_get_input_transform = _declare("nn_get_input_transform", c_int, [net_p, f32_out, f32_out], _check_thread)
nn_predict = _declare("nn_predict", c_int, [net_p, f32_in, c_size_t, f32_out], _check_thread)
nn_evaluate = _declare("nn_evaluate", c_int, [net_p, f32_in, f32_in, c_size_t, double_p, double_p], _check_thread)
nn_predicted_classes = _declare("nn_predicted_classes", c_int, [f32_in, c_size_t, c_size_t, size_p], _check_thread)
nn_count_correct = _declare("nn_count_correct", c_int, [f32_in, f32_in, c_size_t, c_size_t, size_p], _check_thread)
nn_num_layers = _declare("nn_num_layers", c_size_t, [net_p])
nn_layer_size = _declare("nn_layer_size", c_size_t, [net_p, c_size_t])
nn_layer_activation = _declare("nn_layer_activation", c_int, [net_p, c_size_t], _check_thread)
nn_param_count = _declare("nn_param_count", c_size_t, [net_p])
nn_params = _declare("nn_params", c_float_p, [net_p])
nn_grads = _declare("nn_grads", c_float_p, [net_p])
nn_layer_params = _declare("nn_layer_params", c_int, [net_p, c_size_t, float_pp, float_pp], _check_handle)
nn_save = _declare("nn_save", c_int, [net_p, c_char_p], _check_thread)
nn_load = _declare("nn_load", c_int, [net_pp, c_char_p], _check_thread)
nn_save_buffer = _declare("nn_save_buffer", c_int, [net_p, ctypes.c_void_p, c_size_t, size_p], _check_thread)
nn_load_buffer = _declare("nn_load_buffer", c_int, [net_pp, c_char_p, c_size_t], _check_thread)
char_pp = ctypes.POINTER(c_char_p)
nn_set_task = _declare("nn_set_task", c_int, [net_p, c_int], _check_handle)
nn_get_task = _declare("nn_get_task", c_int, [net_p], _check_thread)
nn_set_classes = _declare("nn_set_classes", c_int, [net_p, c_size_t, char_pp], _check_handle)
nn_classes = _declare("nn_classes", c_size_t, [net_p, ctypes.POINTER(char_pp)])
nn_set_feature_names = _declare("nn_set_feature_names", c_int, [net_p, c_size_t, char_pp], _check_handle)
nn_feature_names = _declare("nn_feature_names", c_size_t, [net_p, ctypes.POINTER(char_pp)])
nn_set_label_name = _declare("nn_set_label_name", c_int, [net_p, c_char_p], _check_handle)
nn_label_name = _declare("nn_label_name", c_char_p, [net_p])
nn_gradcheck = _declare("nn_gradcheck", c_int, [net_p, f32_in, f32_in, c_size_t, double_p], _check_handle)
nn_option_name = _declare("nn_option_name", c_char_p, [c_int])
nn_option_bounds = _declare("nn_option_bounds", c_int, [c_int, double_p, double_p, ctypes.POINTER(c_uint)], _check_thread)

# --- Enumerations (nn.h) --------------------------------------------------

ACTIVATIONS = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3,
               "softmax": 4, "leaky_relu": 5}
NO_BIAS = 1
SCHEDULES = {"constant": 0, "step": 1, "exponential": 2, "cosine": 3,
             "plateau": 4}
HISTORY = {"train_loss": 0, "train_accuracy": 1, "val_loss": 2,
           "val_accuracy": 3, "learning_rate": 4}
OPTIMIZERS = {"sgd": 0, "momentum": 1, "nesterov": 2, "adam": 3, "adamw": 4,
              "rmsprop": 5}
TASKS = {"auto": 0, "classify": 1, "regress": 2}
LOSSES = {"mse": 0, "cross_entropy": 1, "binary_cross_entropy": 2}


# --- Options: the library's own table (lib/options.h), read at import -----

#: Flags of nn_option_bounds() (nn.h); test_library checks them against it.
OPTION_INTEGER, OPTION_LOWER_OPEN, OPTION_UPPER_OPEN = 1, 2, 4
OPTION_READ_ONLY, OPTION_SAVED, OPTION_MODEL = 8, 16, 32


def _number(value):
    return str(int(value)) if math.isfinite(value) and value.is_integer() \
        else repr(value)


class Option(collections.namedtuple("Option", "number lower upper flags")):
    """One nn_set/nn_get option as nn_option_bounds() describes it."""

    __slots__ = ()

    def accepts(self, value):
        """Whether nn_set() takes ``value`` (a real number)."""
        if self.flags & OPTION_INTEGER and not (
                math.isfinite(value) and float(value).is_integer()):
            return False
        above = value > self.lower if self.flags & OPTION_LOWER_OPEN \
            else value >= self.lower
        below = value < self.upper if self.flags & OPTION_UPPER_OPEN \
            else value <= self.upper
        return above and below

    def values(self):
        """The accepted values in words, as nn_set()'s messages give them:
        "a number in [0, 1)", "a number > 0", ..."""
        kind = "an integer" if self.flags & OPTION_INTEGER else "a number"
        low = "(" if self.flags & OPTION_LOWER_OPEN else "["
        if self.upper == math.inf:
            return (f"{kind} {'>' if low == '(' else '>='} "
                    f"{_number(self.lower)}")
        high = ")" if self.flags & OPTION_UPPER_OPEN else "]"
        return (f"{kind} in {low}{_number(self.lower)}, "
                f"{_number(self.upper)}{high}")


def _read_options():
    """{name: Option}, numbered from 0 until nn_option_name() knows no
    more (NN_OPT_COUNT)."""
    options = {}
    lower, upper, flags = c_double(), c_double(), c_uint()
    while True:
        number = len(options)
        name = nn_option_name(number)
        if name is None:
            return options
        nn_option_bounds(number, ctypes.byref(lower), ctypes.byref(upper),
                         ctypes.byref(flags))
        options[name.decode()] = Option(number, lower.value, upper.value,
                                        flags.value)


#: Every option of the loaded library, by the name nn_option_name() gives
#: it, in the library's numbering.
OPTIONS = _read_options()
