# SPDX-License-Identifier: MIT
"""The scikit-learn style estimators: every public method, bad inputs,
sklearn's tools on them, and accuracy against sklearn's own MLP."""

import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
# pylint: disable=wrong-import-position
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, load_iris  # noqa: E402
from sklearn.exceptions import (ConvergenceWarning,  # noqa: E402
                                NotFittedError)
from sklearn.model_selection import (GridSearchCV,  # noqa: E402
                                     cross_val_score, train_test_split)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import libnn  # noqa: E402
from libnn import MLPClassifier, MLPRegressor  # noqa: E402


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x), y


@pytest.fixture(scope="module")
def digits_split():
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_test), y_train, \
        y_test


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


# --- classifier -----------------------------------------------------------

def test_multiclass(iris):
    x, y = iris
    clf = quiet(MLPClassifier(hidden_layer_sizes=(20,), max_iter=300,
                              learning_rate_init=0.01,
                              random_state=0).fit, x, y)
    assert clf.out_activation_ == "softmax"
    assert clf.network_.sizes == (4, 20, 3)
    assert clf.network_.loss == "cross_entropy"
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert (clf.n_features_in_, clf.n_outputs_, clf.n_layers_) == (4, 3, 3)
    proba = clf.predict_proba(x)
    assert proba.shape == (150, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(1), 1, rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(x), proba.argmax(1))
    np.testing.assert_allclose(clf.predict_log_proba(x), np.log(proba))
    assert clf.score(x, y) > 0.95
    assert clf.n_iter_ == len(clf.loss_curve_) <= 300
    assert clf.loss_ == clf.loss_curve_[-1] and clf.t_ == 150 * clf.n_iter_
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]


def test_any_label_type_binary(iris):
    x, y = iris
    keep = y > 0
    labels = np.array(["versicolor", "virginica"])[y[keep] - 1]
    clf = quiet(MLPClassifier((10,), random_state=1).fit, x[keep], labels)
    assert clf.out_activation_ == "logistic"
    assert clf.network_.n_outputs == 1
    assert clf.network_.loss == "binary_cross_entropy"
    np.testing.assert_array_equal(clf.classes_, ["versicolor", "virginica"])
    pred = clf.predict(x[keep])
    assert pred.dtype == labels.dtype and set(pred) <= set(labels)
    proba = clf.predict_proba(x[keep])
    assert proba.shape == (100, 2)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], pred)
    assert clf.score(x[keep], labels) > 0.85


@pytest.mark.parametrize("values", [
    np.array([-3, 7, 100]),
    np.array([0.5, 1.5, 2.5]) * 2,
    np.array(["setosa", "versicolor", "virginica"]),
    np.array(["x", "y", "z"], dtype=object),
    np.array([False, True, True]),   # two classes from three groups
])
def test_any_label_type(iris, values):
    x, y = iris
    target = values[y]
    clf = quiet(MLPClassifier((10,), max_iter=100, learning_rate_init=0.01,
                              random_state=0).fit, x, target)
    np.testing.assert_array_equal(clf.classes_, np.unique(values))
    assert set(clf.classes_) == set(values)
    assert set(clf.predict(x)) <= set(values)
    assert clf.score(x, target) > 0.8


def test_multilabel():
    rng = np.random.RandomState(0)
    x = rng.randn(200, 5)
    y = np.column_stack([x[:, 0] > 0, x[:, 1] + x[:, 2] > 0,
                         x[:, 3] < 0.5]).astype(int)
    clf = quiet(MLPClassifier((20,), max_iter=300, random_state=0).fit, x, y)
    assert clf.out_activation_ == "logistic"
    assert clf.network_.n_outputs == 3
    pred = clf.predict(x)
    assert pred.shape == (200, 3) and pred.dtype == y.dtype
    proba = clf.predict_proba(x)
    assert proba.shape == (200, 3) and np.all((proba > 0) & (proba < 1))
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    assert clf.score(x, y) > 0.8   # subset accuracy


def test_one_class_is_an_error():
    with pytest.raises(ValueError, match="only one class"):
        MLPClassifier().fit(np.ones((5, 2)), np.zeros(5))


def test_regression_target_for_a_classifier_is_an_error():
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(np.ones((5, 2)), np.linspace(0, 1, 5))


def test_partial_fit_classifier(iris):
    x, y = iris
    clf = MLPClassifier((10,), random_state=0, learning_rate_init=0.02)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(x, y)
    assert not hasattr(clf, "network_")
    clf.partial_fit(x[:50], y[:50], classes=[0, 1, 2])
    assert clf.n_iter_ == 1 and list(clf.classes_) == [0, 1, 2]
    net = clf.network_
    for _ in range(30):
        clf.partial_fit(x, y)
    assert clf.network_ is net and clf.n_iter_ == 31
    assert len(clf.loss_curve_) == 31 and clf.score(x, y) > 0.8
    assert clf.loss_curve_[-1] < clf.loss_curve_[1]
    with pytest.raises(ValueError, match="not in `self.classes_`"):
        clf.partial_fit(x[:5], np.full(5, 7))
    with pytest.raises(ValueError, match="not the same"):
        clf.partial_fit(x, y, classes=[0, 1])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(x[:, :3], y)


def test_warm_start_and_refit(iris):
    x, y = iris
    clf = quiet(MLPClassifier((8,), max_iter=5, warm_start=True,
                              random_state=0).fit, x, y)
    net, curve = clf.network_, list(clf.loss_curve_)
    quiet(clf.fit, x, y)
    assert clf.network_ is net and clf.n_iter_ == 10
    assert clf.loss_curve_[:5] == curve
    clf.set_params(warm_start=False)
    quiet(clf.fit, x, y)
    assert clf.network_ is not net and clf.n_iter_ == 5
    with pytest.raises(ValueError, match="classes"):
        clf.set_params(warm_start=True)
        clf.fit(x[y < 2], y[y < 2] + 5)


def test_stopping_rules(iris):
    x, y = iris
    clf = MLPClassifier((10,), max_iter=500, tol=1e-2, n_iter_no_change=3,
                        random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(x, y)
    assert clf.n_iter_ < 500 and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        MLPClassifier((10,), max_iter=3, random_state=0).fit(x, y)


def test_early_stopping(iris):
    x, y = iris
    clf = quiet(MLPClassifier((10,), max_iter=1000, early_stopping=True,
                              validation_fraction=0.2, n_iter_no_change=5,
                              learning_rate_init=0.01, random_state=0).fit,
                x, y)
    assert clf.n_iter_ < 1000
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.t_ == 120 * clf.n_iter_  # trained on 80%
    assert clf.score(x, y) > 0.8
    # the weights of the best validation score are restored
    _, x_val, _, y_val = train_test_split(
        x, y, test_size=0.2, stratify=y,
        random_state=_rng_after_init(clf, 0))
    assert clf.score(x_val, y_val) == clf.best_validation_score_


def _rng_after_init(clf, seed):
    """sklearn's random state as the estimator leaves it after drawing the
    initial weights and the shuffling seed (to redo its validation split)."""
    rng = np.random.RandomState(seed)
    units = [clf.n_features_in_, *clf.hidden_layer_sizes, clf.n_outputs_]
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        rng.uniform(size=(fan_in, fan_out))
        rng.uniform(size=fan_out)
    rng.randint(np.iinfo(np.int32).max)
    return rng


def test_loss_curve_matches_sklearn_full_batch(iris):
    """With one batch per epoch the shuffling order cannot matter: libnn
    and sklearn then train the same network from the same weights."""
    from sklearn.neural_network import MLPClassifier as SkMLP
    x, y = iris
    for solver in ("adam", "sgd"):
        params = dict(hidden_layer_sizes=(12,), activation="tanh",
                      solver=solver, alpha=0.0, max_iter=40,
                      learning_rate_init=0.01, random_state=2)
        ours = quiet(MLPClassifier(**params).fit, x, y)
        theirs = quiet(SkMLP(**params).fit, x, y)
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_,
                                   rtol=1e-4)
        np.testing.assert_allclose(ours.predict_proba(x),
                                   theirs.predict_proba(x), atol=1e-4)


def test_verbose(iris, capsys):
    x, y = iris
    quiet(MLPClassifier((5,), max_iter=3, verbose=True, random_state=0).fit,
          x, y)
    out = capsys.readouterr().out
    assert "Iteration 1, loss = " in out and "Iteration 3, loss = " in out


def test_sgd_solver_settings(iris):
    x, y = iris
    for momentum, nesterov, optimizer in ((0.9, True, "nesterov"),
                                          (0.9, False, "momentum"),
                                          (0.0, True, "sgd")):
        clf = quiet(MLPClassifier((5,), solver="sgd", momentum=momentum,
                                  nesterovs_momentum=nesterov, max_iter=2,
                                  batch_size=50, alpha=0.5,
                                  learning_rate_init=0.05,
                                  random_state=0).fit, x, y)
        net = clf.network_
        assert net.optimizer == optimizer and net.batch_size == 50
        assert net.learning_rate == 0.05
        assert net.weight_decay == pytest.approx(0.5 / 50)  # alpha / batch
    clf = quiet(MLPClassifier((5,), beta_1=0.8, beta_2=0.99, epsilon=1e-6,
                              shuffle=False, max_iter=2).fit, x, y)
    net = clf.network_
    assert (net.optimizer, net.beta1, net.beta2) == ("adam", 0.8, 0.99)
    assert net.epsilon == 1e-6 and net.shuffle is False
    assert net.batch_size == 150  # 'auto' = min(200, n)


def test_batch_size_larger_than_data_is_clipped(iris):
    x, y = iris
    with pytest.warns(UserWarning, match="clipped"):
        clf = quiet(MLPClassifier((5,), batch_size=1000, max_iter=2).fit,
                    x, y)
    assert clf.network_.batch_size == 150


def test_same_initial_weights_as_sklearn(iris):
    """random_state draws the initial weights exactly as sklearn does."""
    from sklearn.neural_network import MLPClassifier as SkMLP
    x, y = iris
    params = dict(hidden_layer_sizes=(7, 5), activation="tanh",
                  learning_rate_init=1e-12, max_iter=1, random_state=3)
    ours = quiet(MLPClassifier(**params).fit, x, y)
    theirs = quiet(SkMLP(**params).fit, x, y)
    for a, b in zip(ours.coefs_ + ours.intercepts_,
                    theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_coefs_are_views(iris):
    x, y = iris
    clf = quiet(MLPClassifier((6,), max_iter=5, random_state=0).fit, x, y)
    assert [c.shape for c in clf.coefs_] == [(4, 6), (6, 3)]
    assert [b.shape for b in clf.intercepts_] == [(6,), (3,)]
    clf.intercepts_[-1][:] = [0, 0, 1000]
    assert np.all(clf.predict(x) == 2)
    assert not hasattr(MLPClassifier(), "coefs_")
    assert not hasattr(MLPClassifier(), "intercepts_")


def test_not_fitted(iris):
    x, _ = iris
    for method in ("predict", "predict_proba", "predict_log_proba"):
        with pytest.raises(NotFittedError) as info:
            getattr(MLPClassifier(), method)(x)
        assert isinstance(info.value, (ValueError, AttributeError))
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(x)


@pytest.mark.parametrize("params", [
    dict(solver="lbfgs"), dict(activation="softmax"),
    dict(hidden_layer_sizes=(0,)), dict(hidden_layer_sizes="big"),
    dict(batch_size=0), dict(batch_size="all"), dict(alpha=-1.0),
    dict(momentum=1.5), dict(beta_1=1.0), dict(epsilon=0.0),
    dict(learning_rate_init=0), dict(max_iter=0), dict(tol=-1.0),
    dict(validation_fraction=1.0), dict(n_iter_no_change=0),
    dict(learning_rate="invscaling"), dict(learning_rate="adaptive"),
    dict(optimizer="lbfgs"), dict(dropout=1.0), dict(dropout=-0.1),
    dict(lr_schedule="cyclic"), dict(clip_norm=-1.0),
    dict(clip_norm=float("inf")), dict(standardize="yes"),
])
def test_bad_parameters_raise_at_fit(iris, params):
    x, y = iris
    clf = MLPClassifier(**params)   # sklearn convention: no check here
    with pytest.raises(ValueError):
        clf.fit(x, y)
    with pytest.raises(ValueError):
        MLPRegressor(**params).fit(x, y.astype(float))


@pytest.mark.parametrize("bad", [
    np.ones(5),                            # 1-D X
    np.ones((0, 4)),                       # no samples
    np.full((5, 4), np.nan),               # NaN
    np.ones((5, 4), complex),              # complex
])
def test_bad_inputs(bad):
    y = np.arange(len(bad)) % 2
    for est in (MLPClassifier(), MLPRegressor()):
        with pytest.raises(ValueError):
            est.fit(bad, y)


def test_bad_inputs_at_predict(iris):
    x, y = iris
    clf = quiet(MLPClassifier((3,), max_iter=2).fit, x, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(x[:, :3])
    with pytest.raises(ValueError):
        clf.predict(x[0])
    with pytest.raises(ValueError):
        clf.fit(x, y[:-1])
    with pytest.raises(ValueError):
        clf.fit(x, None)


def test_get_set_params_clone_repr():
    clf = MLPClassifier(hidden_layer_sizes=(5, 3), alpha=0.01)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (5, 3) and params["alpha"] == 0.01
    assert set(params) >= {
        "hidden_layer_sizes", "activation", "solver", "alpha", "batch_size",
        "learning_rate_init", "max_iter", "random_state", "early_stopping",
        "validation_fraction", "n_iter_no_change", "tol", "momentum",
        "nesterovs_momentum", "beta_1", "beta_2", "epsilon", "shuffle",
        "verbose", "warm_start"}
    assert clf.set_params(max_iter=7) is clf and clf.max_iter == 7
    other = clone(clf)
    assert other.get_params() == clf.get_params()
    assert "hidden_layer_sizes=(5, 3)" in repr(clf)
    with pytest.raises(ValueError):
        clf.set_params(bogus=1)


def test_pickle_estimator(iris):
    x, y = iris
    clf = quiet(MLPClassifier((6,), max_iter=20, random_state=0).fit, x, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(x),
                                  clf.predict_proba(x))
    assert again.loss_curve_ == clf.loss_curve_


# --- regressor ------------------------------------------------------------

def test_regressor_one_and_many_targets():
    rng = np.random.RandomState(0)
    x = rng.uniform(-1, 1, size=(300, 3))
    y = np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2]
    reg = quiet(MLPRegressor((30,), max_iter=500, learning_rate_init=0.01,
                             random_state=0).fit, x, y)
    assert reg.out_activation_ == "identity" and reg.network_.loss == "mse"
    pred = reg.predict(x)
    assert pred.shape == (300,) and pred.dtype == np.float64
    assert reg.score(x, y) > 0.9
    y2 = np.column_stack([y, -y, 2 * y])
    reg2 = quiet(MLPRegressor((30,), max_iter=300, learning_rate_init=0.01,
                              random_state=0).fit, x, y2)
    assert reg2.n_outputs_ == 3 and reg2.predict(x).shape == (300, 3)
    assert reg2.score(x, y2) > 0.85
    with pytest.raises(ValueError, match="targets"):
        reg2.partial_fit(x, y)


def test_regressor_column_vector_warns():
    from sklearn.exceptions import DataConversionWarning
    x = np.random.RandomState(0).randn(40, 2)
    with pytest.warns(DataConversionWarning, match="column-vector"):
        reg = quiet(MLPRegressor((4,), max_iter=3).fit, x, x[:, :1])
    assert reg.predict(x).shape == (40,)


def test_partial_fit_regressor():
    rng = np.random.RandomState(1)
    x = rng.randn(100, 2)
    y = x[:, 0] - 2 * x[:, 1]
    reg = MLPRegressor((10,), learning_rate_init=0.01, random_state=0)
    for _ in range(200):
        reg.partial_fit(x, y)
    assert reg.n_iter_ == 200 and reg.score(x, y) > 0.95


# --- sklearn tools --------------------------------------------------------

def test_cross_val_score_iris():
    x, y = load_iris(return_X_y=True)
    model = make_pipeline(StandardScaler(),
                          MLPClassifier((16,), max_iter=300,
                                        learning_rate_init=0.01,
                                        random_state=0))
    scores = quiet(cross_val_score, model, x, y, cv=5)
    assert scores.shape == (5,) and scores.mean() > 0.9


def test_cross_val_score_digits():
    x, y = load_digits(return_X_y=True)
    model = make_pipeline(StandardScaler(),
                          MLPClassifier((32,), max_iter=30,
                                        learning_rate_init=0.01,
                                        random_state=0))
    scores = quiet(cross_val_score, model, x, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.9


def test_grid_search(iris):
    x, y = iris
    search = GridSearchCV(MLPClassifier(max_iter=50, random_state=0),
                          {"hidden_layer_sizes": [(4,), (16,)],
                           "learning_rate_init": [0.001, 0.01]}, cv=3)
    quiet(search.fit, x, y)
    assert search.best_params_["learning_rate_init"] == 0.01
    assert search.best_score_ > 0.8


@pytest.mark.parametrize("hidden,solver,epochs", [
    ((64,), "adam", 30),
    ((100,), "sgd", 50),
    ((64, 32), "adam", 50),
])
def test_digits_accuracy_at_least_sklearn(digits_split, hidden, solver,
                                          epochs):
    """Same split, same hidden sizes, solver, epochs and random_state: the
    test accuracy of libnn's MLPClassifier is at least sklearn's."""
    from sklearn.neural_network import MLPClassifier as SkMLP
    x_train, x_test, y_train, y_test = digits_split
    params = dict(hidden_layer_sizes=hidden, solver=solver, max_iter=epochs,
                  random_state=0, tol=0.0, n_iter_no_change=epochs)
    ours = quiet(MLPClassifier(**params).fit, x_train, y_train)
    theirs = quiet(SkMLP(**params).fit, x_train, y_train)
    assert ours.n_iter_ == theirs.n_iter_ == epochs
    acc_ours = ours.score(x_test, y_test)
    acc_theirs = theirs.score(x_test, y_test)
    print(f"digits {hidden} {solver} {epochs} epochs: libnn {acc_ours:.4f}"
          f" sklearn {acc_theirs:.4f}")
    assert acc_ours >= acc_theirs


# --- libnn's kit, and what a saved network keeps --------------------------

def test_kit_parameters_reach_the_network(iris):
    x, y = iris
    clf = quiet(MLPClassifier(hidden_layer_sizes=(8,), optimizer="rmsprop",
                              dropout=0.25, lr_schedule="cosine",
                              clip_norm=2.5, max_iter=3,
                              random_state=0).fit, x, y)
    net = clf.network_
    assert (net.optimizer, net.dropout, net.schedule, net.clip_norm) == \
        ("rmsprop", 0.25, "cosine", 2.5)
    assert net.input_transform is None
    # standardize: the transform holds the training data's mean and std
    raw = x * 3.0 + 7.0
    std = quiet(MLPRegressor(hidden_layer_sizes=(8,), standardize=True,
                             max_iter=2, random_state=0).fit, raw, y * 1.0)
    shift, scale = std.network_.input_transform
    np.testing.assert_allclose(shift, raw.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(scale, 1 / raw.std(axis=0), rtol=1e-4)
    # optimizer=None is sklearn's choice from solver and momentum
    sgd = quiet(MLPClassifier(solver="sgd", nesterovs_momentum=False,
                              max_iter=1).fit, x, y)
    assert sgd.network_.optimizer == "momentum"


def test_saved_network_keeps_classes_and_features(iris, tmp_path):
    x, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = quiet(MLPClassifier(hidden_layer_sizes=(8,), max_iter=20,
                              random_state=0).fit, x, names)
    path = tmp_path / "clf.nn"
    clf.network_.save(path)
    net = libnn.Network.load(path)
    assert net.classes == ["setosa", "versicolor", "virginica"]
    assert net.task == "classify"
    assert net.feature_names == []
    # binary: one sigmoid output, two class names
    binary = quiet(MLPClassifier(hidden_layer_sizes=(4,), max_iter=5).fit,
                   x, y > 0)
    assert binary.network_.classes == ["False", "True"]
    assert binary.network_.task == "classify"
    # feature names from a table with columns (as a pandas DataFrame has)

    class Frame:
        def __init__(self, a, columns):
            self.a, self.columns = a, np.array(columns, dtype=object)

        def __array__(self, dtype=None, copy=None):
            return self.a if dtype is None else self.a.astype(dtype)

        @property
        def shape(self):
            return self.a.shape

        def __len__(self):
            return len(self.a)

    reg = quiet(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2).fit,
                Frame(x, ["sl", "sw", "pl", "pw"]), y * 1.0)
    assert list(reg.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    assert reg.network_.feature_names == ["sl", "sw", "pl", "pw"]
    assert reg.network_.task == "regress"
