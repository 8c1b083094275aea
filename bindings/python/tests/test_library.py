# SPDX-License-Identifier: MIT
"""Loading the library: discovery order, version check, declarations,
error codes, the exception classes, and what imports without
scikit-learn."""

import math
import os
import pickle
import re
import shutil
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import libnn
from libnn import _lib, errors
from conftest import PACKAGE_ROOT, REPO_ROOT, library_file

PY = sys.executable

EXCEPTIONS = [
    (errors.NN_EINVAL, libnn.NNValueError, ValueError),
    (errors.NN_ENOMEM, libnn.NNMemoryError, MemoryError),
    (errors.NN_ESHAPE, libnn.NNShapeError, ValueError),
    (errors.NN_ESTATE, libnn.NNStateError, RuntimeError),
    (errors.NN_EIO, libnn.NNIOError, OSError),
    (errors.NN_EFORMAT, libnn.NNFormatError, ValueError),
    (errors.NN_ENUMERIC, libnn.NNNumericError, ArithmeticError),
]


def test_version_matches_bindings():
    major, minor, patch = libnn.library_version_info()
    assert major == _lib.ABI_MAJOR and minor >= _lib.ABI_MINOR
    assert libnn.library_version() == f"{major}.{minor}.{patch}"


def test_build_info_names_the_backend_kernels_and_threads():
    info = libnn.build_info()
    assert info["libnn"] == libnn.library_version()
    assert re.match(r"(oneDNN \d+\.\d+\.\d+ \(OpenMP\)|CBLAS)",
                    info["backend"])
    assert re.fullmatch(r"(avx512|avx2|baseline) \(\d+ x \d+ blocks\)",
                        info["inference-kernels"]), info["inference-kernels"]
    net = libnn.Network([2, 3, 1], ["sigmoid", "sigmoid"])
    assert int(info["threads"]) == net.threads
    if info["backend"] == "CBLAS":
        return  # a CBLAS other than OpenBLAS: no kernels, no thread count
    # oneDNN names its instruction set, OpenBLAS its core type.
    assert re.fullmatch(r"[\w.]+", info["kernels"]), info["kernels"]
    before = net.threads
    try:
        net.threads = 1
        assert libnn.build_info()["threads"] == "1"
    finally:
        net.threads = before


# nn_build_info() of a CBLAS build on a CPU newer than its OpenBLAS.
_SLOW_KERNELS = (b"libnn: 0.3.0\n"
                 b"backend: CBLAS (OpenBLAS 0.3.21 DYNAMIC_ARCH Prescott)\n"
                 b"kernels: Prescott\nthreads: 2\n"
                 b"better-kernels: OPENBLAS_CORETYPE=Cooperlake\n")


def test_slow_kernels_warning_gives_the_fix(monkeypatch):
    monkeypatch.setattr(_lib, "nn_build_info", lambda: _SLOW_KERNELS)
    assert libnn.build_info()["better-kernels"] == \
        "OPENBLAS_CORETYPE=Cooperlake"
    with pytest.warns(RuntimeWarning) as record:
        libnn._warn_slow_kernels()
    assert len(record) == 1
    message = str(record[0].message)
    assert "Prescott kernels" in message
    assert "start Python with OPENBLAS_CORETYPE=Cooperlake" in message
    # Without the better-kernels line, nothing is said.
    monkeypatch.setattr(_lib, "nn_build_info",
                        lambda: _SLOW_KERNELS.split(b"better-kernels")[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        libnn._warn_slow_kernels()


def test_slow_kernels_are_said_once():
    """With the library under test and OPENBLAS_CORETYPE unset: however
    often libnn is imported, and with every warning shown (-W always), the
    warning comes once when build_info has better-kernels, else never."""
    code = ("import importlib, libnn, libnn.network\n"
            "from libnn import Network\n"
            "importlib.import_module('libnn')\n"
            "print(libnn.build_info().get('better-kernels', ''))\n")
    env = _clean_env(NN_LIBRARY=libnn.library_path, PYTHONPATH=PACKAGE_ROOT)
    env.pop("OPENBLAS_CORETYPE", None)
    r = subprocess.run([PY, "-W", "always", "-c", code], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    fix = r.stdout.strip()
    assert r.stderr.count("RuntimeWarning") == (1 if fix else 0), r.stderr
    if fix:
        assert fix in r.stderr


def test_inference_bits_do_not_depend_on_the_kernels():
    """nn.h: inference outputs are the same bits under every kernel tier
    NN_MAX_ISA allows (each run is a process: the tier is read once).
    Sizes that give the 12-, 8- and 4-row AVX-512 blocks, the 6-row AVX2
    ones and lone rows, and column tails past whole blocks."""
    code = ("import hashlib, numpy as np, libnn\n"
            "net = libnn.Network([37, 70, 35, 5], ['relu', 'tanh', 'softmax'],"
            " seed=7)\n"
            "x = np.random.default_rng(3).standard_normal((203, 37))"
            ".astype(np.float32)\n"
            "y = net.predict(x)\n"
            "print(libnn.build_info()['inference-kernels'])\n"
            "print(hashlib.sha256(np.ascontiguousarray(y).tobytes())"
            ".hexdigest())\n")
    runs = {}
    for cap in ("", "avx2", "baseline"):
        env = _clean_env(NN_LIBRARY=libnn.library_path,
                         PYTHONPATH=PACKAGE_ROOT, NN_MAX_ISA=cap)
        r = subprocess.run([PY, "-c", code], env=env, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        kernels, digest = r.stdout.split("\n")[:2]
        runs[kernels] = digest
    assert "baseline (4 x 16 blocks)" in runs, runs
    assert len(set(runs.values())) == 1, runs


def test_header_version_is_the_library_version():
    header = open(os.path.join(REPO_ROOT, "include", "nn.h")).read()
    parts = [int(re.search(rf"#define LIBNN_VERSION_{p} (\d+)",
                           header).group(1))
             for p in ("MAJOR", "MINOR", "PATCH")]
    assert tuple(parts) == libnn.library_version_info()


def test_every_header_function_is_declared():
    header = open(os.path.join(REPO_ROOT, "include", "nn.h")).read()
    names = re.findall(r"^NN_API\s+[\w\s\*]*?\b(nn_\w+)\s*\(", header,
                       re.MULTILINE)
    assert len(names) > 30
    for name in names:
        func = getattr(_lib, name, None)
        assert func is not None, f"{name} is not declared in _lib"
        assert func.argtypes is not None, f"{name} has no argtypes"
        # int-returning functions fail with codes: they need the errcheck
        if func.restype is _lib.c_int:
            assert func.errcheck in (_lib._check_handle, _lib._check_thread)


def test_accuracy_rule_through_the_declarations():
    """nn_predicted_classes and nn_count_correct, called through their
    ctypes declarations, against numpy: the arg-max (first of ties) for
    several outputs, above 0.5 for one."""
    import ctypes
    import numpy as np
    rng = np.random.default_rng(5)
    size_p = ctypes.POINTER(ctypes.c_size_t)
    for width in (1, 4):
        # values on a coarse grid, so that rows hold ties
        y_hat = rng.integers(0, 4, (300, width)).astype(np.float32) / 4
        y = rng.integers(0, 4, (300, width)).astype(np.float32) / 4
        classes = np.zeros(300, dtype=np.uintp)
        _lib.nn_predicted_classes(y_hat, 300, width,
                                  classes.ctypes.data_as(size_p))
        want = y_hat.argmax(1) if width > 1 else (y_hat[:, 0] > 0.5)
        np.testing.assert_array_equal(classes, want)
        correct = ctypes.c_size_t()
        _lib.nn_count_correct(y_hat, y, 300, width, ctypes.byref(correct))
        truth = y.argmax(1) if width > 1 else (y[:, 0] > 0.5)
        assert correct.value == int(np.sum(want == truth))
        assert 0 < correct.value < 300
    with pytest.raises(libnn.NNValueError, match="nn_count_correct"):
        _lib.nn_count_correct(y_hat, y, 0, 1, ctypes.byref(correct))


def test_options_are_the_library_table():
    """_lib.OPTIONS is read from the library: one entry per nn.h option,
    under nn_option_name's name and nn.h's number; the flags' values are
    nn.h's."""
    header = open(os.path.join(REPO_ROOT, "include", "nn.h")).read()
    numbers = {name.lower(): int(n) for name, n in re.findall(
        r"^\s+NN_OPT_(\w+) = (\d+)", header, re.MULTILINE)}
    count = int(re.search(r"#define NN_OPT_COUNT (\d+)", header).group(1))
    assert len(numbers) == count > 20
    assert {k: v.number for k, v in _lib.OPTIONS.items()} == numbers
    flags = dict(re.findall(r"#define NN_OPTION_(\w+) (\d+)u", header))
    assert {k: int(v) for k, v in flags.items()} == {
        k[len("OPTION_"):]: v for k, v in vars(_lib).items()
        if k.startswith("OPTION_")}
    with pytest.raises(libnn.NNValueError):
        _lib.nn_option_bounds(count, None, None, None)


def test_enum_options_take_the_enums_names():
    """The names of optimizer, loss and schedule cover exactly the values
    the library's bounds allow."""
    for name, enum in (("optimizer", _lib.OPTIMIZERS),
                       ("loss", _lib.LOSSES), ("schedule", _lib.SCHEDULES)):
        option = _lib.OPTIONS[name]
        assert option.flags & _lib.OPTION_INTEGER
        assert sorted(enum.values()) == list(
            range(int(option.lower), int(option.upper) + 1)), name


def test_every_option_is_a_network_property():
    net = libnn.Network([2, 3, 1], ["tanh", "sigmoid"])
    for name, option in _lib.OPTIONS.items():
        prop = getattr(libnn.Network, name)
        assert isinstance(prop, property), name
        assert (prop.fset is None) == bool(option.flags &
                                           _lib.OPTION_READ_ONLY), name
        getattr(net, name)
    assert libnn.Network.SETTINGS == tuple(
        name for name, o in _lib.OPTIONS.items()
        if o.flags & _lib.OPTION_SAVED and not o.flags & _lib.OPTION_READ_ONLY)
    assert "learning_rate" in libnn.Network.SETTINGS
    assert "threads" not in libnn.Network.SETTINGS
    assert "Values: a number in [0, 1)." in libnn.Network.momentum.__doc__


def _probes(option):
    """Values on and around an option's bounds, where nn_set decides."""
    lo, hi = option.lower, option.upper
    values = [lo, hi, lo - 1, hi + 1, lo + 0.5, math.nan, math.inf,
              -math.inf, np.nextafter(lo, -math.inf),
              np.nextafter(hi, math.inf)]
    return [float(v) for v in values]


@pytest.mark.parametrize("name", [
    name for name, o in _lib.OPTIONS.items()
    if not o.flags & _lib.OPTION_READ_ONLY
    and name not in ("threads", "loss")])
def test_option_accepts_what_nn_set_accepts(name):
    """Option.accepts, from nn_option_bounds, agrees with nn_set itself on
    values at and around the bounds. Left out: threads, process-wide, and
    loss, which nn_set also checks against the last layer."""
    option = _lib.OPTIONS[name]
    for value in _probes(option):
        net = libnn.Network([2, 3, 2], ["tanh", "softmax"])
        try:
            _lib.nn_set(net._ptr, option.number, value)
            took = True
        except libnn.NNValueError:
            took = False
        assert took == option.accepts(value), (name, value)


@pytest.mark.parametrize("code,cls,builtin", EXCEPTIONS)
def test_error_codes_map_to_classes(code, cls, builtin):
    assert errors.error_class(code) is cls
    assert issubclass(cls, libnn.NNError) and issubclass(cls, builtin)
    exc = errors.make_error(code, "detail text", "nn_something")
    assert isinstance(exc, cls) and exc.code == code
    assert exc.name == libnn.error_name(code)
    assert "detail text" in str(exc) and exc.name in str(exc)
    assert libnn.error_string(code) not in ("", "unknown error")
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is cls and again.code == code
    assert str(again) == str(exc)


def test_unknown_code_is_the_base_class():
    exc = errors.make_error(-99, "strange")
    assert type(exc) is libnn.NNError
    assert exc.name == "NN_EUNKNOWN" == libnn.error_name(-99)
    assert libnn.error_name(0) == "NN_OK"


# --- discovery ----------------------------------------------------------

def _import_in_subprocess(env, cwd, code="import libnn; "
                          "print(libnn.library_path)"):
    return subprocess.run([PY, "-c", code], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def _found_by_name(env):
    """What ctypes.util.find_library('nn') finds in that environment."""
    r = subprocess.run([PY, "-c", "import ctypes.util; "
                        "print(ctypes.util.find_library('nn') or '')"],
                       env=env, capture_output=True, text=True, timeout=60)
    return r.stdout.strip()


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("NN_LIBRARY", "LD_LIBRARY_PATH", "PYTHONPATH",
                        "PKG_CONFIG_PATH")}
    env.update(extra)
    return env


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the package alone, in tmp_path/pkg/libnn."""
    dest = tmp_path / "pkg"
    shutil.copytree(os.path.join(PACKAGE_ROOT, "libnn"), dest / "libnn",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so*"))
    return dest


needs_file = pytest.mark.skipif(library_file() is None,
                                reason="the library was found by name only")


def test_nn_library_that_does_not_load_is_an_import_error(package_copy):
    r = _import_in_subprocess(_clean_env(NN_LIBRARY="/nonexistent/libnn.so"),
                              package_copy)
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "NN_LIBRARY" in r.stderr


def test_nn_library_that_is_not_libnn_is_an_import_error(package_copy):
    libm = "libm.so.6"
    r = _import_in_subprocess(_clean_env(NN_LIBRARY=libm), package_copy)
    assert r.returncode != 0
    assert "could not be loaded as libnn" in r.stderr


@needs_file
def test_library_beside_the_package(package_copy):
    shutil.copy(library_file(), package_copy / "libnn" / "libnn.so.0")
    r = _import_in_subprocess(_clean_env(), package_copy)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(package_copy / "libnn" / "libnn.so.0")


@needs_file
def test_library_on_the_linker_path(package_copy):
    libdir = os.path.dirname(library_file())
    if not os.path.exists(os.path.join(libdir, "libnn.so.0")):
        pytest.skip("no libnn.so.0 name beside the library")
    r = _import_in_subprocess(_clean_env(LD_LIBRARY_PATH=libdir),
                              package_copy)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("libnn.so.0")


@needs_file
def test_library_from_pkg_config(package_copy, tmp_path):
    if shutil.which("pkg-config") is None:
        pytest.skip("no pkg-config")
    if _found_by_name(_clean_env()):
        pytest.skip("a libnn is installed system-wide: it would come first")
    libdir = os.path.dirname(library_file())
    if not os.path.exists(os.path.join(libdir, "libnn.so.0")):
        pytest.skip("no libnn.so.0 name beside the library")
    pc = tmp_path / "pc"
    pc.mkdir()
    (pc / "nn.pc").write_text(textwrap.dedent(f"""\
        libdir={libdir}
        Name: nn
        Description: test
        Version: {libnn.library_version()}
        Libs: -L${{libdir}} -lnn
        """))
    r = _import_in_subprocess(_clean_env(PKG_CONFIG_PATH=str(pc)),
                              package_copy)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == os.path.join(libdir, "libnn.so.0")


def test_nothing_found_is_an_import_error(package_copy, tmp_path):
    if _found_by_name(_clean_env()):
        pytest.skip("a libnn is installed system-wide")
    r = _import_in_subprocess(_clean_env(PKG_CONFIG_PATH=str(tmp_path)),
                              package_copy)
    if r.returncode == 0:
        pytest.skip("the soname is found by the dynamic linker")
    assert "cannot find the shared library" in r.stderr
    assert "NN_LIBRARY" in r.stderr


@pytest.mark.parametrize("version", [10000, 0])
def test_version_mismatch_is_refused(package_copy, tmp_path, version):
    """A library of another major (1.0.0), or older than the bindings
    (0.0.0), is refused at import with a clear message."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build a fake library")
    src = tmp_path / "fake.c"
    src.write_text(f"unsigned nn_version(void) {{ return {version}; }}\n"
                   "const char *nn_version_string(void) "
                   f'{{ return "{version // 10000}.0.0"; }}\n')
    lib = tmp_path / "libfake.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)],
                   check=True)
    r = _import_in_subprocess(_clean_env(NN_LIBRARY=str(lib)), package_copy)
    assert r.returncode != 0
    assert "ImportError" in r.stderr
    assert f"is libnn {version // 10000}.0.0" in r.stderr
    assert "these bindings need 0." in r.stderr


@needs_file
def test_pip_install_works_offline(tmp_path):
    """pyproject.toml builds with the system's setuptools, no network."""
    probe = subprocess.run([PY, "-m", "pip", "--version"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("pip is not installed")
    src = tmp_path / "src"
    shutil.copytree(PACKAGE_ROOT, src, ignore=shutil.ignore_patterns(
        "__pycache__", "*.so*", "build", "*.egg-info", ".pytest_cache"))
    target = tmp_path / "site"
    r = subprocess.run(
        [PY, "-m", "pip", "install", "--no-build-isolation", "--no-index",
         "--no-deps", "--quiet", "--target", str(target), str(src)],
        capture_output=True, text=True, timeout=300,
        env=_clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1"))
    assert r.returncode == 0, r.stderr
    r = _import_in_subprocess(
        _clean_env(NN_LIBRARY=library_file(), PYTHONPATH=str(target)),
        tmp_path, "import libnn; print(libnn.__file__, libnn.__version__)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(str(target))


# --- without scikit-learn -------------------------------------------------

_WITHOUT_SKLEARN = textwrap.dedent("""
    import sys

    class Hiding:
        # A finder that finds nothing of sklearn: with every finder wrapped
        # in one, scikit-learn looks not installed at all.
        def __init__(self, finder):
            self.finder = finder

        def find_spec(self, name, path=None, target=None):
            if name == "sklearn" or name.startswith("sklearn."):
                return None
            return self.finder.find_spec(name, path, target)

    sys.meta_path[:] = [Hiding(finder) for finder in sys.meta_path]
    import numpy as np
    import libnn
    from libnn import *  # noqa: F403
    assert "MLPClassifier" not in dir() and Network is libnn.Network
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [1], [1], [0]], np.float32)
    net = libnn.Network([2, 4, 1], ["tanh", "sigmoid"], seed=7,
                        optimizer="adam", learning_rate=0.05)
    net.train(x, y, epochs=500, progress=False)
    assert ((net.predict(x) > 0.5) == (y > 0.5)).all()
    for attempt in ("import libnn.estimators",
                    "libnn.MLPClassifier()",
                    "from libnn import MLPRegressor"):
        try:
            exec(attempt)
        except ImportError as exc:
            print(attempt, "->", exc)
        else:
            raise AssertionError(attempt + " did not fail")
""")


def test_estimators_without_sklearn_say_what_to_install():
    """Without scikit-learn, Network imports and trains; the estimators
    are an ImportError that names the Debian package to install."""
    r = subprocess.run([PY, "-c", _WITHOUT_SKLEARN], capture_output=True,
                       text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 3, r.stdout
    for line in lines:
        assert "need scikit-learn" in line, line
        assert "apt-get install python3-sklearn" in line, line
