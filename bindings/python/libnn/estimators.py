# SPDX-License-Identifier: MIT
"""scikit-learn style estimators over libnn: MLPClassifier, MLPRegressor.

They take the parameter names of sklearn.neural_network's estimators and
train a :class:`libnn.Network` with the same recipe (initialise from
``random_state``, one ``nn_train`` epoch at a time, sklearn's stopping rule
on the training loss or on a held-out validation score).  They derive from
scikit-learn's BaseEstimator and mixins and use its input validation, so
they work in pipelines, ``cross_val_score`` and ``GridSearchCV``.
scikit-learn is required here (Debian: python3-sklearn): importing this
module without it is an ImportError saying so, while the rest of libnn
needs numpy only.

Output layers: softmax + cross-entropy for more than two classes; one
sigmoid + binary cross-entropy for two; one sigmoid per label + binary
cross-entropy for multilabel indicator targets; identity + MSE for
regression.  Inputs are not standardised: that is the caller's job
(sklearn.preprocessing.StandardScaler in a pipeline).
"""

import numbers
import warnings

import numpy as np

from . import _lib
from .network import Network

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import type_of_target
    from sklearn.utils.validation import check_is_fitted, column_or_1d
except ImportError as exc:
    raise ImportError(
        "libnn's MLPClassifier and MLPRegressor need scikit-learn, which "
        f"cannot be imported ({exc}). Install it: on Debian, apt-get install "
        "python3-sklearn; elsewhere, pip install scikit-learn. The rest of "
        "libnn (Network) works without it.") from exc
try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # older: a method of BaseEstimator
    def _validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

__all__ = ["MLPClassifier", "MLPRegressor"]

# sklearn's activation names -> libnn's
_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid",
                "tanh": "tanh", "relu": "relu"}
_SOLVERS = ("sgd", "adam")


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: parameters, the network
    and the training loop."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *,
                 solver="adam", alpha=0.0001, batch_size="auto",
                 learning_rate_init=0.001, max_iter=200, shuffle=True,
                 random_state=None, tol=1e-4, verbose=False,
                 warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, n_iter_no_change=10,
                 learning_rate="constant", power_t=0.5, max_fun=15000,
                 optimizer=None, dropout=0.0, lr_schedule="constant",
                 clip_norm=0.0, standardize=False):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.learning_rate = learning_rate
        self.power_t = power_t
        self.max_fun = max_fun
        self.optimizer = optimizer
        self.dropout = dropout
        self.lr_schedule = lr_schedule
        self.clip_norm = clip_norm
        self.standardize = standardize

    # --- parameters -------------------------------------------------------

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral):
            sizes = [sizes]
        try:
            sizes = list(sizes)
        except TypeError:
            raise ValueError("hidden_layer_sizes must be an int or a "
                             f"sequence of ints, got {sizes!r}.") from None
        for s in sizes:
            if not isinstance(s, numbers.Integral) or isinstance(s, bool) \
                    or s < 1:
                raise ValueError(f"hidden_layer_sizes must be > 0, got "
                                 f"{self.hidden_layer_sizes!r}.")
        return [int(s) for s in sizes]

    def _check_kit(self):
        """The parameters of libnn's training kit, and sklearn's that libnn
        cannot honour: each refused with a ValueError naming it."""
        if self.learning_rate != "constant":
            raise ValueError(
                f"learning_rate={self.learning_rate!r} cannot be honoured by "
                "libnn, which has no 'invscaling' or 'adaptive' rate; use "
                f"lr_schedule (one of {sorted(_lib.SCHEDULES)}).")
        if self.optimizer is not None and \
                self.optimizer not in _lib.OPTIMIZERS:
            raise ValueError(f"optimizer={self.optimizer!r} is not one of "
                             f"{sorted(_lib.OPTIMIZERS)} (or None: from "
                             "solver).")
        if self.lr_schedule not in _lib.SCHEDULES:
            raise ValueError(f"lr_schedule={self.lr_schedule!r} is not one "
                             f"of {sorted(_lib.SCHEDULES)}.")
        for name in ("dropout", "clip_norm"):  # the library's bounds
            value, option = getattr(self, name), _lib.OPTIONS[name]
            if not isinstance(value, numbers.Real) or \
                    not option.accepts(value):
                raise ValueError(f"{name} must be {option.values()}, got "
                                 f"{value!r}.")
        if not isinstance(self.standardize, (bool, np.bool_)):
            raise ValueError(f"standardize must be True or False, got "
                             f"{self.standardize!r}.")

    def _check_params(self):
        self._check_kit()
        if self.activation not in _ACTIVATIONS:
            raise ValueError(f"The activation '{self.activation}' is not "
                             f"supported. Supported activations are "
                             f"{sorted(_ACTIVATIONS)}.")
        if self.solver not in _SOLVERS:
            raise ValueError(f"The solver '{self.solver}' is not supported "
                             "by libnn; use 'sgd' or 'adam'.")
        checks = (
            ("alpha", self.alpha, 0, False),
            ("learning_rate_init", self.learning_rate_init, 0, True),
            ("tol", self.tol, 0, False),
            ("epsilon", self.epsilon, 0, True),
        )
        for name, value, low, strict in checks:
            if not isinstance(value, numbers.Real) or value < low or \
                    (strict and value == low) or not np.isfinite(value):
                raise ValueError(f"{name} must be a number "
                                 f"{'>' if strict else '>='} {low}, got "
                                 f"{value!r}.")
        for name in ("momentum", "beta_1", "beta_2"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or not 0 <= value < 1:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}.")
        if not isinstance(self.validation_fraction, numbers.Real) or \
                not 0 < self.validation_fraction < 1:
            raise ValueError("validation_fraction must be in (0, 1), got "
                             f"{self.validation_fraction!r}.")
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got "
                                 f"{value!r}.")
        if not (self.batch_size == "auto" or (
                isinstance(self.batch_size, numbers.Integral)
                and self.batch_size >= 1)):
            raise ValueError("batch_size must be 'auto' or an int >= 1, got "
                             f"{self.batch_size!r}.")

    def _batch(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn("Got `batch_size` larger than sample size. It is "
                          "going to be clipped", stacklevel=4)
        return int(min(self.batch_size, n_samples))

    def _optimizer(self):
        if self.optimizer is not None:
            return self.optimizer
        if self.solver == "adam":
            return "adam"
        if self.momentum == 0:
            return "sgd"
        return "nesterov" if self.nesterovs_momentum else "momentum"

    # --- the network ------------------------------------------------------

    def _build(self, n_features, n_outputs, out_activation, loss, rng):
        hidden = self._hidden_sizes()
        units = [n_features, *hidden, n_outputs]
        # sklearn's initialisation, draw for draw from the same random
        # state: Glorot uniform, bound sqrt(6 / (fan_in + fan_out)) (2 for
        # logistic), on weights and biases alike.
        factor = 2.0 if self.activation == "logistic" else 6.0
        init = []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            bound = np.sqrt(factor / (fan_in + fan_out))
            init.append((rng.uniform(-bound, bound, (fan_in, fan_out)),
                         rng.uniform(-bound, bound, fan_out)))
        # libnn's own seed then only drives the shuffling of every epoch.
        seed = int(rng.randint(np.iinfo(np.int32).max))
        acts = [_ACTIVATIONS[self.activation]] * len(hidden)
        self.network_ = Network(units, acts + [out_activation], seed=seed,
                                loss=loss)
        for layer, (weights, bias) in enumerate(init):
            self.network_.weights(layer)[...] = weights
            self.network_.bias(layer)[...] = bias
        self.n_layers_ = len(hidden) + 2
        self.n_outputs_ = n_outputs
        self.loss_curve_ = []
        self.n_iter_ = 0
        self.t_ = 0
        self.best_loss_ = np.inf
        self._no_improvement_count = 0

    def _describe(self):
        """What the network keeps about its data, so that a saved
        ``network_`` still knows it: the task, ``classes_`` (as strings)
        and ``feature_names_in_``."""
        net = self.network_
        classifier = self._estimator_type == "classifier"
        net.task = "classify" if classifier else "regress"
        if classifier:
            net.classes = [str(c) for c in self.classes_]
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            net.feature_names = [str(n) for n in names]

    def _configure(self, n_samples):
        """Copy the sklearn parameters into the network's settings; the
        optimizer only when it changes (setting it resets its state)."""
        net = self.network_
        batch = self._batch(n_samples)
        optimizer = self._optimizer()
        if net.optimizer != optimizer:
            net.optimizer = optimizer
        net.learning_rate = self.learning_rate_init
        net.beta1, net.beta2 = self.beta_1, self.beta_2
        net.epsilon = self.epsilon
        if self.momentum > 0:
            net.momentum = self.momentum
        net.batch_size = batch
        net.shuffle = bool(self.shuffle)
        net.dropout = self.dropout
        net.clip_norm = self.clip_norm
        if net.schedule != self.lr_schedule:  # setting it restarts it
            net.schedule = self.lr_schedule
        # sklearn adds (alpha / batch) * W to each minibatch gradient.
        net.weight_decay = self.alpha / batch

    @property
    def coefs_(self):
        """Weight matrices, (n_in, n_out) each: zero-copy views of the
        network's memory, as in sklearn's coefs_."""
        net = self.__dict__.get("network_")
        if net is None:
            raise AttributeError("coefs_ exists once the estimator is fitted")
        return [net.weights(i) for i in range(len(net.sizes) - 1)]

    @property
    def intercepts_(self):
        """Bias vectors: zero-copy views, as in sklearn's intercepts_."""
        net = self.__dict__.get("network_")
        if net is None:
            raise AttributeError("intercepts_ exists once the estimator is "
                                 "fitted")
        return [net.bias(i) for i in range(len(net.sizes) - 1)]

    # --- training ---------------------------------------------------------

    def _fit(self, X, y, incremental, classes=None):
        self._check_params()
        first_pass = (not hasattr(self, "network_")
                      or (not self.warm_start and not incremental))
        X, y = _validate_data(self, X, y, reset=first_pass, dtype=np.float32,
                              order="C", multi_output=True,
                              y_numeric=self._estimator_type == "regressor")
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        rng = check_random_state(self.random_state)
        if first_pass:
            self._init_targets(y, classes)
            out_activation, loss = self._output_layer()
            self._build(X.shape[1], self._n_network_outputs(), out_activation,
                        loss, rng)
            self._describe()
            if self.standardize:
                self.network_.standardize_inputs(X)
            early = self.early_stopping and not incremental
            self.validation_scores_ = [] if early else None
            self.best_validation_score_ = -np.inf if early else None
        else:
            self._check_targets(y)
        targets = self._encode(y)

        early = self.early_stopping and not incremental
        if early:
            stratify = y if (self._estimator_type == "classifier"
                             and y.ndim == 1) else None
            X, X_val, targets, _, y, y_val = train_test_split(
                X, targets, y, random_state=rng,
                test_size=self.validation_fraction, stratify=stratify)
            X = np.ascontiguousarray(X)
            targets = np.ascontiguousarray(targets)
            if self.validation_scores_ is None:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
            best = None
        self._configure(X.shape[0])
        try:
            for _ in range(1 if incremental else self.max_iter):
                loss = float(self.network_.train(X, targets, epochs=1,
                                                 progress=False)[0])
                self.n_iter_ += 1
                self.t_ += X.shape[0]
                self.loss_ = loss
                self.loss_curve_.append(loss)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
                if early:
                    improved = self._update_validation(X_val, y_val)
                    if improved:
                        best = self.network_.params.copy()
                else:
                    self._update_loss(loss)
                if self._no_improvement_count > self.n_iter_no_change:
                    what = ("Validation score" if early else "Training loss")
                    if self.verbose:
                        print(f"{what} did not improve more than "
                              f"tol={self.tol:f} for "
                              f"{self.n_iter_no_change} consecutive epochs. "
                              "Stopping.")
                    break
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations "
                        f"({self.max_iter}) reached and the optimization "
                        "hasn't converged yet.", ConvergenceWarning)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        if early and best is not None:
            self.network_.params = best
        return self

    def _update_loss(self, loss):
        if loss > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if loss < self.best_loss_:
            self.best_loss_ = loss

    def _update_validation(self, X_val, y_val):
        score = self.score(X_val, y_val)
        self.validation_scores_.append(score)
        if self.verbose:
            print(f"Validation score: {score:f}")
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            return True
        return False

    def fit(self, X, y):
        """Train on (X, y) from a fresh network (or the current one when
        ``warm_start``) for up to ``max_iter`` epochs.  Returns self."""
        return self._fit(X, y, incremental=False)

    def _outputs(self, X):
        """Raw network outputs (float32, n x outputs) for validated X."""
        check_is_fitted(self)
        X = _validate_data(self, X, reset=False, dtype=np.float32, order="C")
        return self.network_.predict(X)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer-perceptron classifier, sklearn style, trained by libnn.

    Parameters are those of ``sklearn.neural_network.MLPClassifier`` (the
    solvers are 'sgd' and 'adam'; ``learning_rate`` must be 'constant',
    ``power_t`` and ``max_fun`` have no effect, as in sklearn with these
    solvers), and libnn's training kit:

    - ``optimizer``: 'sgd', 'momentum', 'nesterov', 'adam', 'adamw' or
      'rmsprop' (None: from ``solver``, ``momentum`` and
      ``nesterovs_momentum``, as sklearn);
    - ``dropout``: probability of dropping a hidden unit in training, [0, 1);
    - ``lr_schedule``: 'constant', 'step', 'exponential', 'cosine' or
      'plateau', stepped once per epoch (the network's ``step_size``,
      ``gamma``, ``t_max``, ... keep their defaults);
    - ``clip_norm``: clip the gradient's L2 norm to this (0: off);
    - ``standardize``: keep an input transform in the network that
      standardises each feature with the training data's mean and std.

    A parameter libnn cannot honour is a ValueError naming it, at fit.
    A saved ``network_`` keeps ``classes_`` (as strings) and
    ``feature_names_in_``.  ``alpha`` becomes libnn's
    ``weight_decay = alpha / batch_size``: the same gradient term
    ``alpha * W / batch`` sklearn adds for its L2 penalty, except that libnn
    decays the biases too and reports the loss without the penalty.

    Targets: any labels numpy can sort (``classes_ = np.unique(y)``), or a
    multilabel indicator matrix.
    """

    def _init_targets(self, y, classes):
        kind = type_of_target(y, input_name="y")
        if kind not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(f"Unknown label type: {kind!r}. MLPClassifier "
                             "takes class labels or a multilabel indicator "
                             "matrix.")
        self._multilabel = kind == "multilabel-indicator"
        if self._multilabel:
            self.classes_ = np.arange(y.shape[1])
            self._label_dtype = y.dtype
        else:
            labels = np.unique(y if classes is None else np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(
                    "MLPClassifier needs samples of at least 2 classes in "
                    f"the data, but the data contains only one class: "
                    f"{labels[0]!r}.")
            self.classes_ = labels
        self._check_targets(y)

    def _check_targets(self, y):
        multilabel = y.ndim == 2
        if multilabel != self._multilabel:
            raise ValueError("y is not of the type (multilabel or not) "
                             "the classifier was first fitted with.")
        if multilabel:
            if y.shape[1] != len(self.classes_):
                raise ValueError(f"y has {y.shape[1]} labels, the classifier "
                                 f"has {len(self.classes_)}.")
            return
        if not np.isin(y, self.classes_).all():
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            raise ValueError(f"`y` has classes not in `self.classes_`. "
                             f"`self.classes_` has {self.classes_}. 'y' has "
                             f"{unseen}.")

    def _n_network_outputs(self):
        if self._multilabel or len(self.classes_) > 2:
            return len(self.classes_)
        return 1

    def _output_layer(self):
        if self._n_network_outputs() == 1 or self._multilabel:
            self.out_activation_ = "logistic"
            return "sigmoid", "binary_cross_entropy"
        self.out_activation_ = "softmax"
        return "softmax", "cross_entropy"

    def _encode(self, y):
        if self._multilabel:
            return np.ascontiguousarray(y, dtype=np.float32)
        if len(self.classes_) == 2:
            return (y == self.classes_[1]).astype(np.float32).reshape(-1, 1)
        onehot = np.zeros((len(y), len(self.classes_)), np.float32)
        onehot[np.arange(len(y)), np.searchsorted(self.classes_, y)] = 1
        return onehot

    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y), continuing from the current network.
        ``classes`` (every label that will ever appear) is required on the
        first call, as in sklearn.  Returns self."""
        if not hasattr(self, "network_") and classes is None:
            raise ValueError("classes must be passed on the first call to "
                             "partial_fit.")
        if classes is not None and hasattr(self, "classes_") and \
                not self._multilabel and not np.array_equal(
                    np.unique(classes), self.classes_):
            raise ValueError(f"`classes={np.unique(classes)!r}` is not the "
                             "same as on last call to partial_fit, was: "
                             f"{self.classes_!r}")
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities, float64 (n_samples, n_classes) in the order
        of ``classes_`` (for multilabel: each label's probability)."""
        p = self._outputs(X).astype(np.float64)
        if not self._multilabel and len(self.classes_) == 2:
            return np.column_stack([1.0 - p[:, 0], p[:, 0]])
        return p

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted labels (for multilabel: the 0/1 indicator matrix)."""
        p = self._outputs(X)
        if self._multilabel:
            return (p > 0.5).astype(self._label_dtype)
        if len(self.classes_) == 2:
            return self.classes_[(p[:, 0] > 0.5).astype(np.intp)]
        return self.classes_[np.argmax(p, axis=1)]

    def _more_tags(self):
        return {"multilabel": True}

    if hasattr(BaseEstimator, "__sklearn_tags__"):  # scikit-learn >= 1.6
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.classifier_tags.multi_label = True
            return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer-perceptron regressor, sklearn style, trained by libnn.

    Identity output layer and MSE.  libnn's MSE is
    (1/N) sum_i sum_k (y - yhat)^2 / 2: for one output the same as sklearn's
    squared loss; for k outputs k times it (sklearn also averages over
    outputs).  Parameters as in :class:`MLPClassifier`.
    """

    def _init_targets(self, y, classes):
        self._y_width = 1 if y.ndim == 1 else y.shape[1]

    def _check_targets(self, y):
        width = 1 if y.ndim == 1 else y.shape[1]
        if width != self.n_outputs_:
            raise ValueError(f"y has {width} targets, the regressor has "
                             f"{self.n_outputs_}.")

    def _n_network_outputs(self):
        return self._y_width

    def _output_layer(self):
        self.out_activation_ = "identity"
        return "identity", "mse"

    def _encode(self, y):
        return np.ascontiguousarray(y.reshape(len(y), -1), dtype=np.float32)

    def partial_fit(self, X, y):
        """One epoch over (X, y), continuing from the current network.
        Returns self."""
        return self._fit(X, y, incremental=True)

    def predict(self, X):
        """Predictions, float64: (n_samples,) for one target, else
        (n_samples, n_targets)."""
        p = self._outputs(X).astype(np.float64)
        return p.ravel() if self.n_outputs_ == 1 else p

    def _more_tags(self):
        return {"multioutput": True}

    if hasattr(BaseEstimator, "__sklearn_tags__"):  # scikit-learn >= 1.6
        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.target_tags.multi_output = True
            return tags
