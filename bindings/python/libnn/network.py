# SPDX-License-Identifier: MIT
"""The Network class: one libnn handle, with numpy in and out.

Conventions (STYLE.md, "Python bindings"):
- inputs are converted once to float32 C-contiguous arrays, and passed
  as they are (no copy) when they already are;
- outputs are allocated here with numpy and filled by C;
- parameters and gradients are zero-copy views of the library's memory;
- shapes are checked here, before C is called, and raise the exception
  class the library would have raised (NNShapeError is a ValueError).
"""

import ctypes
import functools
import math
import os
import sys
import threading
import time

import numpy as np

from . import _lib, _onnx
from .errors import NNShapeError, NNStateError, NNValueError

__all__ = ["Network"]

_ACTIVATION_NAMES = {v: k for k, v in _lib.ACTIVATIONS.items()}


class _Handle:
    """Owns one nn_net pointer and frees it when the last reference goes.

    A Network holds one reference, and so does every numpy view of the
    network's memory: a view therefore stays valid even after the Network
    is closed or collected (the memory is freed when the last view dies).
    """

    __slots__ = ("ptr", "__weakref__")

    def __init__(self, ptr):
        self.ptr = ptr

    def __del__(self):
        ptr, self.ptr = self.ptr, None
        if ptr:
            try:
                _lib.nn_free(ptr)
            except (AttributeError, TypeError):  # interpreter shutdown
                pass


def _as_f32(data, what):
    """``data`` as a float32, C-contiguous, aligned array; the same object
    (no copy) when it already is one."""
    if isinstance(data, np.ndarray):
        if data.dtype.kind == "c":
            raise TypeError(f"{what} is complex; libnn takes real numbers")
        if data.dtype.kind not in "fiub" and data.dtype != object:
            raise TypeError(f"{what} has dtype {data.dtype}; libnn takes "
                            "numbers")
    try:
        arr = np.asarray(data, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what} cannot be read as a float array: {exc}") \
            from None
    return np.require(arr, np.float32, ["C_CONTIGUOUS", "ALIGNED"])


#: The largest size_t: ctypes would wrap a larger int around silently.
_SIZE_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_size_t)) - 1


def _positive_int(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be an integer, not "
                        f"{type(value).__name__}")
    if value < 1:
        raise NNValueError(detail=f"{what} must be >= 1, got {value}")
    if value > _SIZE_MAX:
        raise OverflowError(f"{what} must be at most {_SIZE_MAX}, got "
                            f"{value}")
    return int(value)


def _path(path):
    """A path as C takes it; a NUL would cut it short there, so it is
    refused as Python's own open() refuses it."""
    encoded = os.fsencode(path)
    if b"\0" in encoded:
        raise ValueError("embedded null byte")
    return encoded


class _Lock:
    """Concurrent calls on one Network: those that only read it (predict,
    evaluate, save, ...) share the network, as the C library allows; any
    other call has it to itself, waiting for the calls in flight. A thread
    may re-enter (a training callback may call history() or predict())."""

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._readers = {}   # thread ident -> depth
        self._writer = None  # the thread ident holding it alone
        self._depth = 0

    def acquire(self, shared):
        me = threading.get_ident()
        with self._cond:
            if shared:
                while self._writer not in (None, me):
                    self._cond.wait()
                self._readers[me] = self._readers.get(me, 0) + 1
                return
            while not (self._writer == me or (
                    self._writer is None and set(self._readers) <= {me})):
                self._cond.wait()
            self._writer = me
            self._depth += 1

    def release(self, shared):
        me = threading.get_ident()
        with self._cond:
            if shared:
                self._readers[me] -= 1
                if not self._readers[me]:
                    del self._readers[me]
            else:
                self._depth -= 1
                if not self._depth:
                    self._writer = None
            self._cond.notify_all()


def _locked(shared):
    """Runs a method of Network under the network's lock."""

    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            lock = self._lock
            lock.acquire(shared)
            try:
                return method(self, *args, **kwargs)
            finally:
                lock.release(shared)
        return call

    return wrap


_reads = _locked(shared=True)
_writes = _locked(shared=False)


def _clock(seconds):
    """1:02:03, 2:03 or 0:03."""
    seconds = int(seconds + 0.5)
    h, m, s = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class _ProgressBar:
    """The default progress display of Network.train/fit on a terminal:
    the epoch, a bar, the epoch's mean loss so far, samples per second and
    the time left. Redrawn at most ten times a second."""

    def __init__(self, stream, epochs, n_samples, width=30):
        self.stream, self.epochs, self.width = stream, epochs, width
        self.n = n_samples
        self.start = time.monotonic()
        self.last = 0.0
        self.epoch, self.loss_sum = -1, 0.0

    def _mean_loss(self, epoch, step, cost):
        if epoch != self.epoch:
            self.epoch, self.loss_sum = epoch, 0.0
        self.loss_sum += cost
        return self.loss_sum / (step + 1)

    def __call__(self, epoch, step, steps, cost):
        mean = self._mean_loss(epoch, step, cost)
        now = time.monotonic()
        end = step + 1 == steps
        if not end and now - self.last < 0.1:
            return False
        self.last = now
        done_steps = epoch * steps + step + 1
        elapsed = max(now - self.start, 1e-9)
        rate = done_steps / steps * self.n / elapsed
        eta = elapsed * (self.epochs * steps - done_steps) / done_steps
        done = int(self.width * (step + 1) / steps)
        bar = "#" * done + "." * (self.width - done)
        self.stream.write(f"\repoch {epoch + 1}/{self.epochs} [{bar}] "
                          f"loss {mean:.4g} {rate:.0f} samples/s "
                          f"ETA {_clock(eta)}   ")
        self.stream.flush()
        return False

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


class _TqdmBar(_ProgressBar):
    """The same through tqdm, when it is installed: its bar, rate and ETA
    over every step of the run, with the epoch and its mean loss."""

    def __init__(self, tqdm, stream, epochs, n_samples):
        super().__init__(stream, epochs, n_samples)
        self.tqdm, self.bar = tqdm, None

    def __call__(self, epoch, step, steps, cost):
        mean = self._mean_loss(epoch, step, cost)
        if self.bar is None:
            self.bar = self.tqdm(total=self.epochs * steps, unit="step",
                                 file=self.stream, leave=True)
        self.bar.set_postfix_str(f"epoch {epoch + 1}/{self.epochs} "
                                 f"loss {mean:.4g}", refresh=False)
        self.bar.update(1)
        return False

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _progress_bar(stream, epochs, n_samples):
    """A tqdm bar when tqdm is importable, else the built-in one."""
    try:
        from tqdm import tqdm
    except ImportError:
        return _ProgressBar(stream, epochs, n_samples)
    return _TqdmBar(tqdm, stream, epochs, n_samples)


#: What each option means, for its property's docstring; the valid values
#: come from the library (nn_option_bounds). An option missing here still
#: gets its property.
_SETTING_DOCS = {
    "learning_rate": "Learning rate.",
    "optimizer": "As in torch.optim. Setting it, even to its current "
                 "value, resets the optimizer state.",
    "momentum": "Momentum of 'momentum' and 'nesterov'.",
    "beta1": "Adam's and AdamW's beta1.",
    "beta2": "Adam's and AdamW's beta2.",
    "epsilon": "Adam's, AdamW's and RMSprop's epsilon.",
    "weight_decay": "L2 weight decay as in torch.optim.",
    "loss": "'cross_entropy' needs a softmax last layer, "
            "'binary_cross_entropy' a sigmoid one.",
    "batch_size": "Minibatch size of train() and fit().",
    "shuffle": "Whether train() and fit() shuffle every epoch.",
    "rmsprop_alpha": "RMSprop's smoothing constant.",
    "dropout": "Probability of dropping a hidden unit in training passes "
               "(inverted dropout).",
    "clip_norm": "step() first scales the gradient to this global L2 norm "
                 "when larger; 0 = off.",
    "schedule": "Learning-rate schedule, stepped once per epoch. Setting it "
                "restarts the schedule.",
    "step_size": "Epochs between decays of the 'step' schedule.",
    "gamma": "Decay factor of the 'step', 'exponential' and 'plateau' "
             "schedules.",
    "t_max": "Half period in epochs of the 'cosine' schedule.",
    "min_lr": "Floor of the 'cosine' and 'plateau' schedules.",
    "plateau_patience": "Epochs without improvement before the 'plateau' "
                        "schedule decays.",
    "early_stopping": "With validation data, fit() stops after this many "
                      "epochs without a better validation loss and restores "
                      "the best weights; 0 = off.",
    "current_lr": "The learning rate step() uses now.",
    "epochs_done": "Epochs trained so far by train() and fit() (the "
                   "schedule's clock).",
    "threads": "Threads of the matrix products and libnn's loops, 0 for the "
               "backend's own choice. Process-wide (every network's), so "
               "not one of SETTINGS and not saved.",
}

#: The options whose values are names: nn.h's enums.
_ENUM_OPTIONS = {"optimizer": _lib.OPTIMIZERS, "loss": _lib.LOSSES,
                 "schedule": _lib.SCHEDULES}


def _setting_kind(name, option):
    """How a property shows an option's value: a dict of names (an enum),
    bool (an integer in [0, 1]), int or float."""
    if name in _ENUM_OPTIONS:
        return {v: k for k, v in _ENUM_OPTIONS[name].items()}
    if option.flags & _lib.OPTION_INTEGER:
        return bool if (option.lower, option.upper) == (0, 1) else int
    return float


def _setting_doc(name, option, kind):
    doc = _SETTING_DOCS.get(name, f"The library's option {name!r}.")
    if option.flags & _lib.OPTION_READ_ONLY:
        return "Read-only: " + doc
    if isinstance(kind, dict):
        values = ", ".join(repr(k) for k in kind.values())
    elif kind is bool:
        values = "True or False"
    else:
        values = option.values()
    return f"{doc} Values: {values}."


def _setting(name, option):
    """A property reading and writing one nn_get/nn_set option. Values are
    checked by the library (nn_set's NNValueError), names of enums here."""
    number = option.number
    kind = _setting_kind(name, option)

    def fget(self):
        value = ctypes.c_double()
        _lib.nn_get(self._ptr, number, ctypes.byref(value))
        value = value.value
        if kind is int:
            return int(value)
        if kind is bool:
            return bool(value)
        if isinstance(kind, dict):  # enum: number -> name
            return kind.get(int(value), int(value))
        return value

    def fset(self, value):
        if isinstance(kind, dict):
            names = {v: k for k, v in kind.items()}
            if isinstance(value, str):
                if value not in names:
                    raise NNValueError(
                        detail=f"unknown value {value!r}; use one of "
                        f"{sorted(names)}", function="nn_set")
                value = names[value]
        if isinstance(value, str) or not isinstance(
                value, (int, float, np.integer, np.floating)):
            raise TypeError(f"expected a number, got {type(value).__name__}")
        _lib.nn_set(self._ptr, number, float(value))

    readonly = option.flags & _lib.OPTION_READ_ONLY
    return property(_reads(fget), None if readonly else _writes(fset),
                    doc=_setting_doc(name, option, kind))


class Network:
    """A multilayer perceptron backed by one libnn handle.

    Args:
        sizes: unit counts ``[n_inputs, hidden..., n_outputs]`` (at least 2).
        activations: one name per weight layer (``len(sizes) - 1``), from
            ``"identity"``, ``"sigmoid"``, ``"tanh"``, ``"relu"``,
            ``"leaky_relu"`` and ``"softmax"`` (last layer only).
        bias: ``False`` builds layers without bias vectors (``z = a W``).
        seed: seeds the weight initialisation and the shuffling of
            :meth:`train` (``0 <= seed < 2**64``).
        **settings: any of the setting properties, e.g.
            ``learning_rate=0.1, optimizer="adam"``.

    The memory of a Network is freed by :meth:`close` (or ``with``), or when
    the object and every view of its parameters are gone.
    """

    def __init__(self, sizes, activations, *, bias=True, seed=0, **settings):
        sizes = [_positive_int(s, "every size") for s in sizes]
        if len(sizes) < 2:
            raise NNValueError(detail="a network needs at least 2 sizes "
                               "(inputs and outputs)", function="nn_create")
        if isinstance(activations, str):
            raise TypeError("activations is a list with one name per "
                            "weight layer, e.g. ['relu', 'softmax']")
        activations = list(activations)
        if len(activations) != len(sizes) - 1:
            raise NNValueError(
                detail=f"{len(sizes)} sizes need {len(sizes) - 1} "
                f"activations, got {len(activations)}", function="nn_create")
        codes = []
        for name in activations:
            if name not in _lib.ACTIVATIONS:
                raise NNValueError(
                    detail=f"unknown activation {name!r}; use one of "
                    f"{sorted(_lib.ACTIVATIONS)}", function="nn_create")
            codes.append(_lib.ACTIVATIONS[name])
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError("seed must be an integer")
        if not 0 <= seed < 2 ** 64:
            raise NNValueError(detail="seed must be in [0, 2**64)",
                               function="nn_create")
        unknown = set(settings) - set(self.SETTINGS)
        if unknown:
            raise TypeError(f"unknown setting(s) {sorted(unknown)}; the "
                            f"settings are {list(self.SETTINGS)}")
        out = ctypes.c_void_p()
        _lib.nn_create(ctypes.byref(out), len(sizes),
                       (ctypes.c_size_t * len(sizes))(*sizes),
                       (ctypes.c_int * len(codes))(*codes),
                       0 if bias else _lib.NO_BIAS, int(seed))
        self._adopt(out.value)
        for key in self.SETTINGS:
            if key in settings:
                setattr(self, key, settings[key])

    def _adopt(self, ptr):
        if getattr(self, "_lock", None) is None:
            self._lock = _Lock()
        self._handle = _Handle(ptr)
        self._sizes = tuple(_lib.nn_layer_size(ptr, i)
                            for i in range(_lib.nn_num_layers(ptr)))

    @classmethod
    def _from_ptr(cls, ptr):
        self = cls.__new__(cls)
        self._adopt(ptr)
        return self

    @property
    def _ptr(self):
        handle = getattr(self, "_handle", None)
        if handle is None:
            raise NNStateError(detail="this Network is closed")
        return handle.ptr

    # --- lifecycle --------------------------------------------------------

    @_writes
    def close(self):
        """Release the network.  Views of its parameters keep the memory
        alive until they are gone; every other method then raises
        :class:`NNStateError`.  Calling close twice is harmless."""
        self._handle = None

    @property
    def closed(self):
        """True after :meth:`close`."""
        return getattr(self, "_handle", None) is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @_reads
    def copy(self):
        """A deep copy (nn_clone): parameters, settings, optimizer state and
        shuffling generator; it trains on exactly as this one would."""
        out = ctypes.c_void_p()
        _lib.nn_clone(self._ptr, ctypes.byref(out))
        return type(self)._from_ptr(out.value)

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()

    def __repr__(self):
        if self.closed:
            return "<libnn.Network (closed)>"
        return (f"<libnn.Network sizes={list(self.sizes)} "
                f"bias={self.has_bias} optimizer={self.optimizer!r} "
                f"loss={self.loss!r} params={self.param_count}>")

    # --- architecture -----------------------------------------------------

    @property
    def sizes(self):
        """The unit counts of every layer, inputs first (a tuple)."""
        self._ptr  # noqa: B018 -- raises when closed
        return self._sizes

    @property
    @_reads
    def activations(self):
        """The activation of every weight layer, by name (a tuple of
        ``len(sizes) - 1``), read from the library: also right for a
        loaded, copied or unpickled network."""
        ptr = self._ptr
        codes = [_lib.nn_layer_activation(ptr, layer)
                 for layer in range(len(self._sizes) - 1)]
        return tuple(_ACTIVATION_NAMES.get(code, code) for code in codes)

    @property
    def n_inputs(self):
        """Number of inputs (``sizes[0]``)."""
        return self.sizes[0]

    @property
    def n_outputs(self):
        """Number of outputs (``sizes[-1]``)."""
        return self.sizes[-1]

    @property
    @_reads
    def param_count(self):
        """Total number of parameters (weights and biases)."""
        return _lib.nn_param_count(self._ptr)

    @property
    @_reads
    def has_bias(self):
        """False for a network created with ``bias=False``."""
        bias = _lib.c_float_p()
        weights = _lib.c_float_p()
        _lib.nn_layer_params(self._ptr, 0, ctypes.byref(weights),
                             ctypes.byref(bias))
        return bool(bias)

    # --- settings ---------------------------------------------------------
    # One property per option of the library (learning_rate, optimizer,
    # ...), made from its own table below the class.

    #: The names of the writable settings a model keeps (nn_save), in the
    #: library's order: what the constructor takes and :attr:`settings`
    #: gives.
    SETTINGS = tuple(name for name, option in _lib.OPTIONS.items()
                     if option.flags & _lib.OPTION_SAVED
                     and not option.flags & _lib.OPTION_READ_ONLY)

    @property
    def settings(self):
        """All settings as a dict (suitable for ``Network(..., **s)``)."""
        return {key: getattr(self, key) for key in self.SETTINGS}

    # --- what the network knows about its data --------------------------

    def _names(self, getter):
        names = _lib.char_pp()
        n = getter(self._ptr, ctypes.byref(names))
        return [names[i].decode("utf-8") for i in range(n)]

    @staticmethod
    def _name_array(names, what):
        if names is None:
            return 0, None
        if isinstance(names, (str, bytes)):
            raise TypeError(f"{what} is a list of names, not one string")
        encoded = [str(n).encode("utf-8") for n in names]
        return len(encoded), (ctypes.c_char_p * max(1, len(encoded)))(
            *encoded)

    @property
    @_reads
    def classes(self):
        """The class names, in the order of the outputs (for one sigmoid
        output: the two classes, the second that of outputs > 0.5), as
        strings; ``[]`` when none are kept. Assign a list of distinct
        names (any values are turned into strings), or None to remove
        them. Saved with the network (nn_set_classes)."""
        return self._names(_lib.nn_classes)

    @classes.setter
    @_writes
    def classes(self, names):
        n, arr = self._name_array(names, "classes")
        _lib.nn_set_classes(self._ptr, n, arr)

    @property
    @_reads
    def feature_names(self):
        """The input features' names, ``[]`` when none are kept; assign
        one distinct name per input, or None (nn_set_feature_names)."""
        return self._names(_lib.nn_feature_names)

    @feature_names.setter
    @_writes
    def feature_names(self, names):
        n, arr = self._name_array(names, "feature_names")
        _lib.nn_set_feature_names(self._ptr, n, arr)

    @property
    @_reads
    def label_name(self):
        """The label column's name, or None (nn_set_label_name)."""
        name = _lib.nn_label_name(self._ptr)
        return None if name is None else name.decode("utf-8")

    @label_name.setter
    @_writes
    def label_name(self, name):
        _lib.nn_set_label_name(self._ptr, None if name is None
                               else str(name).encode("utf-8"))

    @property
    @_reads
    def task(self):
        """'classify' or 'regress': as set, or without a task set,
        'classify' for a cross-entropy loss (softmax, or sigmoid with binary
        cross-entropy). Assign 'classify', 'regress' or 'auto'."""
        code = _lib.nn_get_task(self._ptr)
        return {v: k for k, v in _lib.TASKS.items()}[code]

    @task.setter
    @_writes
    def task(self, name):
        if name not in _lib.TASKS:
            raise NNValueError(detail=f"task {name!r} is not one of "
                               f"{sorted(_lib.TASKS)}", function="nn_set_task")
        _lib.nn_set_task(self._ptr, _lib.TASKS[name])

    # --- shapes -----------------------------------------------------------

    def _inputs(self, x, what="x"):
        """(batch x n_inputs float32 array, whether x was one sample)."""
        x = _as_f32(x, what)
        n_in = self._sizes[0]
        if x.ndim == 1 and x.shape[0] == n_in:
            return x.reshape(1, n_in), True
        if x.ndim != 2 or x.shape[1] != n_in:
            raise NNShapeError(
                detail=f"{what} has shape {x.shape}, the network takes "
                f"(batch, {n_in}) or ({n_in},)")
        if x.shape[0] == 0:
            raise NNValueError(detail=f"{what} holds no samples")
        return x, False

    def _targets(self, y, batch, what="y"):
        n_out = self._sizes[-1]
        labels = np.asarray(y) if not isinstance(y, np.ndarray) else y
        if (labels.ndim == 1 and n_out > 1 and labels.shape[0] == batch
                and np.issubdtype(labels.dtype, np.integer)):
            return self._one_hot(labels, what)
        y = _as_f32(y, what)
        if y.ndim == 1 and (y.shape[0] == n_out and batch == 1):
            return y.reshape(1, n_out)
        if y.ndim == 1 and n_out == 1 and y.shape[0] == batch:
            return y.reshape(batch, 1)
        if y.ndim != 2 or y.shape != (batch, n_out):
            raise NNShapeError(
                detail=f"{what} has shape {y.shape}, expected "
                f"({batch}, {n_out}) to match the inputs")
        return y

    def _one_hot(self, labels, what):
        """Integer class labels as one-hot float32 rows."""
        n_out = self._sizes[-1]
        bad = (labels < 0) | (labels >= n_out)
        if bad.any():
            raise NNValueError(
                detail=f"{what} holds class {labels[bad][0]}, but the "
                f"network has {n_out} outputs: classes are 0..{n_out - 1}")
        onehot = np.zeros((labels.shape[0], n_out), np.float32)
        onehot[np.arange(labels.shape[0]), labels] = 1
        return onehot

    def _output(self, batch, out):
        shape = (batch, self._sizes[-1])
        if out is None:
            return np.empty(shape, np.float32)
        if (not isinstance(out, np.ndarray) or out.dtype != np.float32
                or not out.flags.c_contiguous or not out.flags.writeable):
            raise TypeError("out must be a writeable, C-contiguous float32 "
                            "numpy array")
        if out.shape != shape:
            raise NNShapeError(detail=f"out has shape {out.shape}, expected "
                               f"{shape}")
        return out

    # --- the four verbs ---------------------------------------------------

    @_writes
    def forward(self, x, out=None):
        """Forward pass (nn_forward) on a batch, or on one sample given as a
        1-D array.  Uses the network's own buffers: not for concurrent use;
        see :meth:`predict` for that.

        Returns:
            float32 array (batch, n_outputs), or (n_outputs,) for one sample.
            With ``out`` (float32, C-contiguous, right size) it is filled and
            returned.
        """
        x, single = self._inputs(x)
        y_hat = self._output(x.shape[0], out)
        _lib.nn_forward(self._ptr, x, x.shape[0], y_hat)
        return y_hat[0] if single and out is None else y_hat

    @_writes
    def cost(self, x, y):
        """Mean loss of the batch (nn_cost), as a float."""
        x, _ = self._inputs(x)
        y = self._targets(y, x.shape[0])
        cost = ctypes.c_double()
        _lib.nn_cost(self._ptr, x, y, x.shape[0], ctypes.byref(cost))
        return cost.value

    @_writes
    def backprop(self, x, y):
        """Forward, loss and gradient (nn_backprop); the gradient is stored
        in the network (see :attr:`grads`).  Returns the mean loss."""
        x, _ = self._inputs(x)
        y = self._targets(y, x.shape[0])
        cost = ctypes.c_double()
        _lib.nn_backprop(self._ptr, x, y, x.shape[0], ctypes.byref(cost))
        return cost.value

    @_writes
    def step(self):
        """One optimizer update from the stored gradients (nn_step)."""
        _lib.nn_step(self._ptr)

    # --- training and inference -----------------------------------------

    def _progress(self, progress, epochs, n_samples):
        """(callable or None, progress bar or None) for train/fit."""
        if progress is True or (progress is None and _isatty(sys.stderr)):
            bar = _progress_bar(sys.stderr, epochs, n_samples)
            return bar, bar
        if progress is None or progress is False:
            return None, None
        if not callable(progress):
            raise TypeError("progress must be None, a bool or a callable")
        return progress, None

    @_writes
    def train(self, x, y, epochs=1, progress=None):
        """Minibatch training (nn_train) with the network's settings.

        Args:
            x: inputs, (n, n_inputs).
            y: targets, (n, n_outputs); (n,) when there is one output; or
                integer class labels (n,) in 0..n_outputs-1 for a network
                of several outputs (softmax or sigmoid), turned into
                one-hot rows.
            epochs: number of passes over the data, >= 1.
            progress: ``None`` shows a progress bar on stderr when it is
                a terminal (the epoch's mean loss so far, samples per second
                and the time left; tqdm's bar when tqdm is installed);
                ``False`` shows nothing; ``True`` always shows the bar; a callable ``progress(epoch, step, steps_per_epoch,
                cost)`` is called after every step (epoch and step from 0,
                ``cost`` the minibatch loss before the update) and stops
                training by returning a true value.

        Returns:
            float64 array: the mean minibatch loss of every epoch that ran
            (the ``"train_loss"`` series of :meth:`history`).

        An exception raised by the callback (KeyboardInterrupt included)
        stops training after the current step and is re-raised.  Without a
        callback, the C loop runs uninterrupted (Ctrl-C is seen when it
        returns).
        """
        x, _ = self._inputs(x)
        y = self._targets(y, x.shape[0])
        epochs = _positive_int(epochs, "epochs")
        ptr = self._ptr
        progress, bar = self._progress(progress, epochs, x.shape[0])
        failure = []
        on_step = _lib.PROGRESS_FN() if progress is None else _lib.PROGRESS_FN(
            _guarded(failure, lambda _u, e, s, n, c: progress(e, s, n, c)))
        try:
            _lib.nn_train(ptr, x, y, x.shape[0], epochs, on_step, None)
        finally:
            if bar is not None:
                bar.close()
        if failure:
            raise failure[0]
        return self.history()["train_loss"]

    @_writes
    def fit(self, x, y, epochs=1, *, validation_data=None, progress=None,
            on_epoch=None):
        """Training with validation data, early stopping (the
        :attr:`early_stopping` setting) and an epoch callback (nn_fit).

        Args:
            x, y, epochs, progress: as :meth:`train`.
            validation_data: ``(x_val, y_val)`` or None.  With it, every
                epoch is evaluated on it, and training ends with the weights
                of the epoch of lowest validation loss.
            on_epoch: ``on_epoch(epoch, logs)`` after every epoch, ``logs`` a
                dict of that epoch's :meth:`history` values; a true return
                value stops training.

        Returns:
            :meth:`history`: a dict of float64 arrays, one value per epoch.
        """
        x, _ = self._inputs(x)
        y = self._targets(y, x.shape[0])
        epochs = _positive_int(epochs, "epochs")
        n_val, x_val, y_val = 0, None, None
        if validation_data is not None:
            try:
                x_val, y_val = validation_data
            except (TypeError, ValueError):
                raise TypeError("validation_data must be a pair "
                                "(x_val, y_val)") from None
            x_val, _ = self._inputs(x_val, "x_val")
            y_val = self._targets(y_val, x_val.shape[0], "y_val")
            n_val = x_val.shape[0]
        ptr = self._ptr
        progress, bar = self._progress(progress, epochs, x.shape[0])
        failure = []
        on_step = _lib.PROGRESS_FN() if progress is None else _lib.PROGRESS_FN(
            _guarded(failure, lambda _u, e, s, n, c: progress(e, s, n, c)))
        epoch_cb = _lib.EPOCH_FN()  # NULL
        if on_epoch is not None:
            if not callable(on_epoch):
                raise TypeError("on_epoch must be callable")

            def logs(_user, _net, epoch):
                entry = {k: float(v[epoch]) if epoch < len(v) else math.nan
                         for k, v in self.history().items()}
                return on_epoch(epoch, entry)

            epoch_cb = _lib.EPOCH_FN(_guarded(failure, logs))
        try:
            _lib.nn_fit(ptr, x, y, x.shape[0],
                        None if x_val is None else x_val.ctypes.data,
                        None if y_val is None else y_val.ctypes.data,
                        n_val, epochs, on_step, epoch_cb, None)
        finally:
            if bar is not None:
                bar.close()
        if failure:
            raise failure[0]
        return self.history()

    @_writes
    def shuffle_order(self, n):
        """A permutation of ``range(n)`` drawn from the network's generator,
        as :meth:`train` draws each epoch's order (nn_shuffle); it advances
        the generator the same way. For training loops written in Python."""
        n = _positive_int(n, "n")
        order = np.empty(n, np.uintp)
        _lib.nn_shuffle(self._ptr, order, n)
        return order.astype(np.intp)

    @_reads
    def history(self):
        """Per-epoch series of the last :meth:`train` or :meth:`fit` call
        (nn_history): a dict with float64 arrays ``train_loss``,
        ``train_accuracy``, ``val_loss``, ``val_accuracy`` (NaN without
        validation data) and ``learning_rate``."""
        ptr = self._ptr
        length = _lib.nn_history_len(ptr)
        out = {}
        for name, metric in _lib.HISTORY.items():
            values = np.empty(length, np.float64)
            if length:
                _lib.nn_history(ptr, metric, values, length)
            out[name] = values
        return out

    @_writes
    def epoch_begin(self):
        """Start an epoch of a training loop written in Python: set the
        learning rate the schedule gives it, as :meth:`fit` does before
        each epoch (nn_epoch_begin)."""
        _lib.nn_epoch_begin(self._ptr)

    @_writes
    def epoch_end(self, train_loss, train_accuracy=float("nan"),
                  val_loss=float("nan"), val_accuracy=float("nan")):
        """End such an epoch as :meth:`fit` does (nn_epoch_end): append the
        metrics (NaN for those there are none of) to :meth:`history` with
        the learning rate the epoch ran at, count the epoch, step the
        schedule (plateau watches ``val_loss``, or ``train_loss`` when it
        is NaN) and, given ``val_loss``, keep early stopping's account for
        :meth:`should_stop` and :meth:`restore_best_weights`."""
        metrics = np.array([train_loss, train_accuracy, val_loss,
                            val_accuracy], np.float64)
        _lib.nn_epoch_end(self._ptr, metrics, metrics.size)

    @_reads
    def should_stop(self):
        """True when early stopping ends training now, as :meth:`fit` would
        stop (nn_epoch_should_stop): ``early_stopping`` > 0 epochs ended by
        :meth:`epoch_end` with a ``val_loss`` brought none lower than the
        best before them."""
        stop = ctypes.c_int()
        _lib.nn_epoch_should_stop(self._ptr, ctypes.byref(stop))
        return bool(stop.value)

    @_writes
    def restore_best_weights(self):
        """Put back the parameters of the lowest ``val_loss`` given to
        :meth:`epoch_end` since :meth:`clear_history`, as :meth:`fit` does
        when it ends; nothing changes when none was given
        (nn_restore_best_weights)."""
        _lib.nn_restore_best_weights(self._ptr)

    @_writes
    def clear_history(self):
        """Empty :meth:`history` and forget early stopping's account, as
        :meth:`train` does when it starts (nn_history_clear)."""
        _lib.nn_history_clear(self._ptr)

    @property
    @_reads
    def outputs(self):
        """Outputs of the last forward pass on this network (nn_outputs):
        of :meth:`backprop`'s minibatch before the update, of
        :meth:`forward`, :meth:`cost`, or a training step; a read-only
        float32 copy (rows, n_outputs), or None before any forward pass.
        :meth:`predict` and :meth:`evaluate` do not change it."""
        rows = ctypes.c_size_t()
        pointer = _lib.nn_outputs(self._ptr, ctypes.byref(rows))
        if not pointer:
            return None
        view = self._view(pointer, (rows.value, self.n_outputs))
        out = view.copy()
        out.flags.writeable = False
        return out

    @_reads
    def predict(self, x, out=None):
        """Read-only forward pass (nn_predict).  Thread-safe: several threads
        may predict with the same Network at once (the GIL is released
        during the C call).

        Returns:
            float32 array (batch, n_outputs), or (n_outputs,) for one sample
            given as a 1-D array.  With ``out`` it is filled and returned.
        """
        x, single = self._inputs(x)
        y_hat = self._output(x.shape[0], out)
        _lib.nn_predict(self._ptr, x, x.shape[0], y_hat)
        return y_hat[0] if single and out is None else y_hat

    @_reads
    def evaluate(self, x, y):
        """Loss and accuracy over a data set (nn_evaluate); thread-safe.

        Returns:
            ``(cost, accuracy)``: the mean loss and the share of samples
            whose arg-max output is the arg-max target (one output: both on
            the same side of 0.5).
        """
        x, _ = self._inputs(x)
        y = self._targets(y, x.shape[0])
        cost, accuracy = ctypes.c_double(), ctypes.c_double()
        _lib.nn_evaluate(self._ptr, x, y, x.shape[0], ctypes.byref(cost),
                         ctypes.byref(accuracy))
        return cost.value, accuracy.value

    @_writes
    def gradcheck(self, x, y):
        """Largest relative error between backprop's gradient and central
        finite differences (nn_gradcheck); far below 1e-2 when correct."""
        x, _ = self._inputs(x)
        y = self._targets(y, x.shape[0])
        err = ctypes.c_double()
        _lib.nn_gradcheck(self._ptr, x, y, x.shape[0], ctypes.byref(err))
        return err.value

    # --- parameters: zero-copy views --------------------------------------

    def _view(self, pointer, shape):
        """A numpy array over library memory that keeps the handle alive."""
        count = int(np.prod(shape))
        if not pointer:
            raise NNStateError(detail="the library returned no memory")
        block = (ctypes.c_float * count).from_address(
            ctypes.cast(pointer, ctypes.c_void_p).value)
        block._nn_handle = self._handle  # the view's base owns the handle
        return np.ctypeslib.as_array(block).reshape(shape)

    @property
    @_reads
    def params(self):
        """All parameters, a writeable float32 view (param_count,) of the
        library's memory: per weight layer, W (row-major, inputs x units)
        then b.  Assigning to it (``net.params = values``) copies in."""
        return self._view(_lib.nn_params(self._ptr), (self.param_count,))

    @params.setter
    def params(self, values):
        self.params[...] = values

    @property
    @_reads
    def grads(self):
        """The stored gradients, a writeable float32 view laid out like
        :attr:`params` (zero before the first backprop)."""
        return self._view(_lib.nn_grads(self._ptr), (self.param_count,))

    def _layer(self, layer):
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)):
            raise TypeError("layer must be an integer")
        n_layers = len(self.sizes) - 1
        if not -n_layers <= layer < n_layers:
            raise IndexError(f"weight layer {layer} out of range: the "
                             f"network has {n_layers}")
        layer %= n_layers
        weights, bias = _lib.c_float_p(), _lib.c_float_p()
        _lib.nn_layer_params(self._ptr, layer, ctypes.byref(weights),
                             ctypes.byref(bias))
        return layer, weights, bias

    @_reads
    def weights(self, layer):
        """W of weight layer ``layer`` (negative counts from the end): a
        writeable float32 view (sizes[layer], sizes[layer + 1]);
        ``z = a @ W + b``."""
        layer, weights, _ = self._layer(layer)
        return self._view(weights, (self._sizes[layer],
                                    self._sizes[layer + 1]))

    @_reads
    def bias(self, layer):
        """b of weight layer ``layer``: a writeable float32 view
        (sizes[layer + 1],), or None for a network without biases."""
        layer, _, bias = self._layer(layer)
        if not bias:
            return None
        return self._view(bias, (self._sizes[layer + 1],))

    # --- input transform --------------------------------------------------

    @property
    @_reads
    def input_transform(self):
        """``(shift, scale)`` float32 arrays of the input transform
        x' = (x - shift) * scale applied before the first layer, or None.
        Assign a pair to set it, None to remove it."""
        n_in = self.sizes[0]
        shift = np.empty(n_in, np.float32)
        scale = np.empty(n_in, np.float32)
        has = _lib.nn_get_input_transform(self._ptr, shift, scale)
        return (shift, scale) if has == 1 else None

    @input_transform.setter
    @_writes
    def input_transform(self, value):
        ptr = self._ptr
        if value is None:
            _lib.nn_set_input_transform(ptr, None, None)
            return
        try:
            shift, scale = value
        except (TypeError, ValueError):
            raise TypeError("input_transform takes (shift, scale) or "
                            "None") from None
        n_in = self._sizes[0]
        shift = _as_f32(shift, "shift")
        scale = _as_f32(scale, "scale")
        for name, arr in (("shift", shift), ("scale", scale)):
            if arr.shape != (n_in,):
                raise NNShapeError(detail=f"{name} has shape {arr.shape}, "
                                   f"expected ({n_in},)")
        _lib.nn_set_input_transform(ptr, shift.ctypes.data,
                                    scale.ctypes.data)

    @_writes
    def standardize_inputs(self, x):
        """Set the input transform to standardise features over ``x``
        (shift = mean, scale = 1/std; nn_standardize_inputs), so that the
        network then takes raw data.  Returns self."""
        x, _ = self._inputs(x)
        _lib.nn_standardize_inputs(self._ptr, x, x.shape[0])
        return self

    # --- persistence ------------------------------------------------------

    @_reads
    def save(self, path):
        """Write the network to a file (nn_save; never half-written)."""
        _lib.nn_save(self._ptr, _path(path))

    @classmethod
    def load(cls, path):
        """Read a network written by :meth:`save` (nn_load)."""
        out = ctypes.c_void_p()
        _lib.nn_load(ctypes.byref(out), _path(path))
        return cls._from_ptr(out.value)

    @_reads
    def to_bytes(self):
        """The network as bytes (nn_save_buffer), same format as files."""
        ptr = self._ptr
        length = ctypes.c_size_t()
        _lib.nn_save_buffer(ptr, None, 0, ctypes.byref(length))
        buf = ctypes.create_string_buffer(length.value)
        _lib.nn_save_buffer(ptr, buf, length.value, ctypes.byref(length))
        return buf.raw[:length.value]

    @classmethod
    def from_bytes(cls, data):
        """A network from :meth:`to_bytes`' output (any bytes-like)."""
        data = bytes(data)
        out = ctypes.c_void_p()
        _lib.nn_load_buffer(ctypes.byref(out), data, len(data))
        return cls._from_ptr(out.value)

    def to_onnx(self, path):
        """Write the network as an ONNX model (nn_onnx_save of
        libnn_onnx; never half-written): what :meth:`predict` computes, as
        Gemm and activation nodes, which OpenCV's dnn module runs.  See
        docs/interop.md."""
        _onnx.library().nn_onnx_save(self._ptr, os.fsencode(path))

    @classmethod
    def from_onnx(cls, path):
        """A network from an ONNX multilayer perceptron (nn_onnx_load), such
        as torch.onnx.export writes for an nn.Sequential of Linear layers and
        activations.  Anything libnn cannot compute exactly raises
        :class:`NNFormatError` naming the node and op."""
        out = ctypes.c_void_p()
        _onnx.library().nn_onnx_load(ctypes.byref(out), os.fsencode(path))
        return cls._from_ptr(out.value)

    def __getstate__(self):
        return {"libnn": self.to_bytes()}

    def __setstate__(self, state):
        data = state["libnn"]
        out = ctypes.c_void_p()
        _lib.nn_load_buffer(ctypes.byref(out), data, len(data))
        self._adopt(out.value)


for _name, _option in _lib.OPTIONS.items():
    if not hasattr(Network, _name):  # never over a method
        setattr(Network, _name, _setting(_name, _option))
del _name, _option


def _guarded(failure, func):
    """Wrap a Python callback run by C: an exception is kept in
    ``failure`` (to be re-raised once C returns) and stops training."""

    def call(*args):
        try:
            return 1 if func(*args) else 0
        except BaseException as exc:  # noqa: BLE001 -- re-raised later
            failure.append(exc)
            return 1

    return call


def _isatty(stream):
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False
