# SPDX-License-Identifier: MIT
"""Exceptions raised by libnn, one class per ``NN_E...`` code.

Every class derives from :class:`NNError` and also from the closest built-in
exception, so that ``except ValueError`` or ``except OSError`` catch what a
Python programmer expects them to (libarchive-c, LightGBM).  Errors that the
bindings detect before calling C (a wrong shape, an unknown name) raise the
class the C library would have raised for the same mistake.

This module needs neither numpy nor the shared library.
"""

# The pinned codes of nn.h; the names are also what nn_error_name() says.
NN_OK = 0
NN_EINVAL = -1
NN_ENOMEM = -2
NN_ESHAPE = -3
NN_ESTATE = -4
NN_EIO = -5
NN_EFORMAT = -6
NN_ENUMERIC = -7

_NAMES = {
    NN_OK: "NN_OK",
    NN_EINVAL: "NN_EINVAL",
    NN_ENOMEM: "NN_ENOMEM",
    NN_ESHAPE: "NN_ESHAPE",
    NN_ESTATE: "NN_ESTATE",
    NN_EIO: "NN_EIO",
    NN_EFORMAT: "NN_EFORMAT",
    NN_ENUMERIC: "NN_ENUMERIC",
}


class NNError(Exception):
    """Base class of every libnn error.

    Attributes:
        code: the negative ``NN_E...`` code (an ``int``).
        name: its name, e.g. ``"NN_EINVAL"``.
        detail: the library's explanation (``nn_last_error``), or the
            bindings' own when the error was caught before calling C.
        function: the C function that failed, or ``None``.
    """

    code = None

    def __init__(self, code=None, detail="", function=None):
        if code is None:
            code = type(self).code
        super().__init__(code, detail, function)
        self.code = code
        self.name = _NAMES.get(code, "NN_EUNKNOWN")
        self.detail = detail
        self.function = function

    def __str__(self):
        text = self.detail or "failed"
        if self.function and not text.startswith(self.function):
            text = f"{self.function}: {text}"
        return f"{text} [{self.name}]"


class NNValueError(NNError, ValueError):
    """``NN_EINVAL``: a bad argument (unknown name, value out of range...)."""

    code = NN_EINVAL


class NNMemoryError(NNError, MemoryError):
    """``NN_ENOMEM``: an allocation failed or a size would overflow."""

    code = NN_ENOMEM


class NNShapeError(NNError, ValueError):
    """``NN_ESHAPE``: sizes do not agree (array shapes, buffer capacity)."""

    code = NN_ESHAPE


class NNStateError(NNError, RuntimeError):
    """``NN_ESTATE``: a call out of order (``step`` before ``backprop``),
    or a :class:`~libnn.Network` used after ``close()``."""

    code = NN_ESTATE


class NNIOError(NNError, OSError):
    """``NN_EIO``: a file could not be opened, read, written or renamed."""

    code = NN_EIO

    def __str__(self):  # OSError's own __str__ would print the args tuple
        return NNError.__str__(self)


class NNFormatError(NNError, ValueError):
    """``NN_EFORMAT``: model data that is corrupt, truncated or unknown."""

    code = NN_EFORMAT


class NNNumericError(NNError, ArithmeticError):
    """``NN_ENUMERIC``: a NaN or infinity in inputs, targets, cost or
    gradients."""

    code = NN_ENUMERIC


_CLASSES = {
    cls.code: cls
    for cls in (NNValueError, NNMemoryError, NNShapeError, NNStateError,
                NNIOError, NNFormatError, NNNumericError)
}


def error_class(code):
    """The exception class for a return code (:class:`NNError` if unknown)."""
    return _CLASSES.get(code, NNError)


def make_error(code, detail="", function=None):
    """An exception instance for a failed call, ready to raise."""
    return error_class(code)(code, detail, function)


__all__ = [
    "NNError", "NNValueError", "NNMemoryError", "NNShapeError",
    "NNStateError", "NNIOError", "NNFormatError", "NNNumericError",
    "error_class", "make_error",
]
