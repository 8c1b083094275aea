# SPDX-License-Identifier: MIT
"""sklearn.utils.estimator_checks.check_estimator on both estimators.

Every check must pass, except those listed in docs/python.md's section
"Known check_estimator failures" (lines "- `Estimator.check_name`: why");
this test fails both when a listed check passes and when an unlisted one
fails, so the documentation stays exact.
"""

import os
import re
import warnings

import pytest

from conftest import REPO_ROOT

pytest.importorskip("sklearn")
from sklearn.utils._testing import SkipTest  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

from libnn import MLPClassifier, MLPRegressor  # noqa: E402

DOC = os.path.join(REPO_ROOT, "docs", "python.md")


def documented_failures():
    text = open(DOC, encoding="utf-8").read()
    section = re.search(r"^#+ Known check_estimator failures\n(.*?)(?=^#)",
                        text, re.MULTILINE | re.DOTALL)
    assert section, "docs/python.md lacks its check_estimator section"
    return set(re.findall(r"^- `(MLP\w+\.check_\w+)`", section.group(1),
                          re.MULTILINE))


def run_checks(estimator):
    """{check name: error} for the checks that fail; skips are not
    failures (e.g. the pandas checks when pandas is missing)."""
    failed = {}
    for est, check in check_estimator(estimator, generate_only=True):
        name = getattr(check, "func", check).__name__
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check(est)
        except SkipTest:
            continue
        except Exception as exc:  # noqa: BLE001 -- collected and compared
            failed[f"{type(estimator).__name__}.{name}"] = exc
    return failed


# Default parameters: with libnn these checks take about a second each.
@pytest.mark.parametrize("estimator", [MLPClassifier(), MLPRegressor()],
                         ids=["MLPClassifier", "MLPRegressor"])
def test_check_estimator(estimator):
    expected = {name for name in documented_failures()
                if name.startswith(type(estimator).__name__ + ".")}
    failed = run_checks(estimator)
    details = "\n".join(f"{k}: {type(v).__name__}: {str(v)[:300]}"
                        for k, v in failed.items())
    assert set(failed) == expected, (
        f"failing checks differ from docs/python.md\n{details}")
