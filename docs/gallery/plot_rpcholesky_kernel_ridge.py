"""
Kernel ridge regression with RPCholesky landmarks (handwritten digits)
======================================================================

Kernel ridge regression (KRR) with a Gaussian kernel ``k(x, y) = exp(-γ |x - y|^2)``
solves an ``n x n`` system.  A Nystrom approximation ``K ~ F F^T`` of rank ``k`` turns
it into ridge regression on ``k`` features: ``F`` for the training points and, for a new
point ``x``, ``φ(x) = L^-1 k(S, x)`` with ``S`` the landmarks and ``L = F[S]`` the
Cholesky factor of ``K[S, S]``.  The quality of the features depends on the landmarks:

- :func:`lowrank.factorization.rp_cholesky` picks them by randomly pivoted Cholesky
  (each landmark drawn with probability proportional to the part of the kernel the
  previous ones leave unexplained), reading ``(k + 1) n`` kernel entries plus a few
  thousand for its rejection step; the kernel is given as a function of index
  arrays, so the ``n x n`` matrix is never formed;
- :class:`sklearn.kernel_approximation.Nystroem` draws them uniformly at random.

The data are scikit-learn's bundled handwritten digits (1,797 images of 8 x 8 pixels,
scaled to [0, 1]), classified by regression on one-hot labels (the predicted class is
the largest output).  80 % train and 20 % test (``numpy.random.default_rng(0)``); γ and
the ridge λ are chosen for exact KRR on a validation part of the training set, then
both Nystrom methods use them at equal rank k, over five seeds.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import scipy.linalg
from scipy.spatial.distance import cdist
from sklearn.datasets import load_digits
from sklearn.kernel_approximation import Nystroem

from lowrank.factorization import rp_cholesky

digits = load_digits()
X, labels = digits.data / 16.0, digits.target
test = np.random.default_rng(0).random(labels.size) < 0.2
X_train, X_test = X[~test], X[test]
y_train, y_test = labels[~test], labels[test]
Y_train = np.eye(10)[y_train]                 # one-hot targets
n = y_train.size
print(f"{n} training and {y_test.size} test images")


def rbf(A, B, gamma):
    return np.exp(-gamma * cdist(A, B, "sqeuclidean"))


def accuracy(scores, y):
    return float(np.mean(np.argmax(scores, axis=1) == y))


# %%
# Exact kernel ridge regression, and the choice of γ and λ
# --------------------------------------------------------
# ``(K + λ n I) a = Y`` on 75 % of the training set, scored on the other 25 %.

held = np.random.default_rng(1).random(n) < 0.25
fit, val = ~held, held
best = (-1.0, None, None)
for gamma in (0.05, 0.1, 0.2, 0.4):
    K_fit = rbf(X_train[fit], X_train[fit], gamma)
    K_val = rbf(X_train[val], X_train[fit], gamma)
    for lam in (1e-6, 1e-5, 1e-4, 1e-3):
        coef = scipy.linalg.solve(K_fit + lam * fit.sum() * np.eye(fit.sum()), Y_train[fit],
                                  assume_a="pos")
        score = accuracy(K_val @ coef, y_train[val])
        if score > best[0]:
            best = (score, gamma, lam)
_, GAMMA, LAM = best
print(f"chosen: gamma = {GAMMA}, lambda = {LAM} (validation accuracy {best[0]:.3f})")

start = time.perf_counter()
K = rbf(X_train, X_train, GAMMA)
coef = scipy.linalg.solve(K + LAM * n * np.eye(n), Y_train, assume_a="pos")
exact_accuracy = accuracy(rbf(X_test, X_train, GAMMA) @ coef, y_test)
exact_seconds = time.perf_counter() - start
print(f"exact KRR: test accuracy {exact_accuracy:.3f} ({exact_seconds:.3f} s)")


# %%
# Nystrom features at rank k
# --------------------------
# Both methods end in the same ridge regression on their features,
# ``w = (Φ^T Φ + λ n I)^-1 Φ^T Y``; the trace error ``tr(K - Φ Φ^T) / tr(K)`` measures
# how much of the training kernel the features capture.


def kernel_entries(rows, cols):
    """The training kernel, entry by entry: ``K[rows][:, cols]``."""
    return rbf(X_train[rows], X_train[cols], GAMMA)


def rpcholesky_features(rank, seed):
    res = rp_cholesky(kernel_entries, rank, diag=np.ones(n), rng=seed)
    L = res.factor[res.pivots]             # lower triangular: K[S, S] = L L^T
    test_features = scipy.linalg.solve_triangular(
        L, rbf(X_train[res.pivots], X_test, GAMMA), lower=True).T
    return res.factor, test_features


def uniform_features(rank, seed):
    nystroem = Nystroem(kernel="rbf", gamma=GAMMA, n_components=rank, random_state=seed)
    return nystroem.fit_transform(X_train), nystroem.transform(X_test)


def ridge_accuracy(train_features, test_features):
    k = train_features.shape[1]
    gram = train_features.T @ train_features + LAM * n * np.eye(k)
    w = scipy.linalg.solve(gram, train_features.T @ Y_train, assume_a="pos")
    return accuracy(test_features @ w, y_test)


METHODS = {"RPCholesky (lowrank)": rpcholesky_features,
           "uniform Nystroem (scikit-learn)": uniform_features}
RANKS = (25, 50, 100, 200, 400)
SEEDS = range(5)
results = {name: {"accuracy": [], "trace_error": [], "seconds": []} for name in METHODS}
rp_cholesky(kernel_entries, 10, diag=np.ones(n), rng=0)   # compile the kernel once
for name, features in METHODS.items():
    for rank in RANKS:
        rows = []
        for seed in SEEDS:
            start = time.perf_counter()
            train_features, test_features = features(rank, seed)
            seconds = time.perf_counter() - start
            trace_error = 1.0 - np.sum(train_features**2) / n   # tr(K) = n
            rows.append((ridge_accuracy(train_features, test_features), trace_error,
                         seconds))
        rows = np.array(rows)
        results[name]["accuracy"].append(rows[:, 0])
        results[name]["trace_error"].append(rows[:, 1])
        results[name]["seconds"].append(np.median(rows[:, 2]))

print(f"{'method':32s} {'k':>4s} {'accuracy (mean, min)':>21s} {'trace error':>12s} "
      f"{'features (s)':>13s}")
for name, r in results.items():
    for i, rank in enumerate(RANKS):
        acc = r["accuracy"][i]
        print(f"{name:32s} {rank:4d} {acc.mean():13.3f} {acc.min():7.3f} "
              f"{np.mean(r['trace_error'][i]):12.4f} {r['seconds'][i]:13.4f}")

# %%
# Accuracy and trace error against the rank
# -----------------------------------------
# Mean over the five seeds, with the range shaded.  The digits are a homogeneous data
# set (ten classes of similar size, no outliers), the case where uniform landmarks do
# well: in our run RPCholesky's features captured slightly more of the kernel at every
# rank (trace error 0.606 against 0.622 at k = 25, 0.150 against 0.157 at k = 400) and
# the test accuracies agreed within about 1.5 points (RPCholesky ahead at k <= 50,
# uniform at k >= 100), both reaching exact KRR's 0.994 at k = 400, a quarter of n.
# With the chosen bandwidth the kernel's spectrum is flat (the trace error is still
# 0.15 at k = 400), so no landmark rule can do much better at small k.  Residual-driven
# landmarks matter most on data with clusters of very different sizes or outlying
# points, which uniform sampling misses (the experiments of Chen, Epperly, Tropp and Webber).
# Both methods build their features in a fraction of the exact solve's time.

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for name, r in results.items():
    acc = np.array(r["accuracy"])
    err = np.array(r["trace_error"])
    line, = left.plot(RANKS, acc.mean(axis=1), marker="o", label=name)
    left.fill_between(RANKS, acc.min(axis=1), acc.max(axis=1), alpha=0.2,
                      color=line.get_color())
    right.plot(RANKS, err.mean(axis=1), marker="o", label=name)
    right.fill_between(RANKS, err.min(axis=1), err.max(axis=1), alpha=0.2,
                       color=line.get_color())
left.axhline(exact_accuracy, color="k", linestyle="--", label="exact KRR")
for ax in (left, right):
    ax.set_xscale("log")
    ax.set_xticks(RANKS, labels=[str(k) for k in RANKS])
    ax.tick_params(axis="x", which="minor", labelbottom=False)
    ax.set_xlabel("rank k (landmarks)")
left.set_ylabel("test accuracy")
left.set_title(f"digits, Gaussian kernel γ = {GAMMA}, λ = {LAM:g}")
left.legend()
right.set_yscale("log")
right.set_ylabel("tr(K - Φ Φ^T) / tr(K), training kernel")
right.set_title("how much of the kernel the features capture")
plt.show()
