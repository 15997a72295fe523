"""
Recommending movies (MovieLens ml-latest-small)
===============================================

Predict the ratings users would give to movies they have not rated, from the 100,836
ratings (half stars, 0.5 to 5) of 610 users on 9,724 movies in MovieLens
ml-latest-small (F. M. Harper and J. A. Konstan, ACM TiiS 2015; research use only, see
the data set's README).  The recipe:

1. split the ratings, in file order, into 80 % training and 20 % test
   (``numpy.random.default_rng(0).random(100836) < 0.2`` is the test set);
2. fit ``rating ~ mu + a_user + b_movie + u_user . v_movie`` with
   :func:`lowrank.completion.altmin` and ``biases=True``: an offset, a bias per user and
   per movie and rank-k factors, fitted jointly, with a ridge ``λ`` on the factors and
   ``λ_b = 5`` on the biases (which shrinks movies with few ratings towards the mean),
   choosing the rank k and ``λ`` on a validation part of the *training* set;
3. predict with the result's ``predict``, clipped to [0.5, 5].

The test set is touched once, at the end.
"""

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np

from lowrank.completion import altmin, load_movielens_small
from lowrank.exceptions import ConvergenceWarning

data = load_movielens_small()
print(data)
users, movies, ratings = data.rows, data.cols, data.ratings

test = np.random.default_rng(0).random(ratings.size) < 0.2
train = np.flatnonzero(~test)
test = np.flatnonzero(test)
print(f"{train.size} training and {test.size} test ratings")

# %%
# The model
# ---------
# Rows are users and columns movies; most movies have only a handful of ratings, so the
# exact per-row solves are the cheap choice (the default ``method="robust"`` solves those
# rows exactly too, and gives the same fit).

BIAS_LAM = 5.0


def fit(idx, rank, lam, validation=None):
    """AltMin with biases on the ratings ``idx`` (the held-out RMSE of every sweep is
    recorded when ``validation`` is given)."""
    held_out = None
    if validation is not None:
        held_out = (users[validation], movies[validation], ratings[validation])
    with warnings.catch_warnings():
        # 20 sweeps are enough: stop there on noisy data without a warning
        warnings.simplefilter("ignore", ConvergenceWarning)
        return altmin((users[idx], movies[idx], ratings[idx]), rank, shape=data.shape,
                      method="exact", biases=True, regularization=lam,
                      bias_regularization=BIAS_LAM, maxiter=20, tol=1e-3,
                      validation=held_out, rng=0)


def errors(model, idx):
    e = np.clip(model.predict(users[idx], movies[idx]), 0.5, 5.0) - ratings[idx]
    return np.sqrt(np.mean(e**2)), np.mean(np.abs(e))


# %%
# Choosing k and λ on a validation part of the training set
# ---------------------------------------------------------
# 20 % of the training ratings are held out; each (k, λ) is fitted on the rest.

held = np.random.default_rng(1).random(train.size) < 0.2
fit_part, validation = train[~held], train[held]
ranks, lams = (5, 10, 20, 40), (5.0, 10.0, 15.0, 20.0)
grid = np.empty((len(ranks), len(lams)))
for i, rank in enumerate(ranks):
    for j, lam in enumerate(lams):
        grid[i, j] = errors(fit(fit_part, rank, lam), validation)[0]
i, j = np.unravel_index(np.argmin(grid), grid.shape)
rank, lam = ranks[i], lams[j]
print(f"validation RMSE:\n{np.round(grid, 4)}\nchosen: k = {rank}, lambda = {lam}")
history = fit(fit_part, rank, lam, validation=validation).history

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for i, k in enumerate(ranks):
    left.plot(lams, grid[i], marker="o", label=f"k = {k}")
left.set_xlabel("λ (ridge of the factors; λ_b = 5 on the biases)")
left.set_ylabel("validation RMSE")
left.set_title("choice of k and λ (clipped predictions)")
left.legend()
right.plot(np.arange(1, history["validation_rmse"].size + 1), history["validation_rmse"],
           marker="o")
right.set_xlabel("sweep")
right.set_ylabel("validation RMSE (unclipped)")
right.set_title(f"k = {rank}, λ = {lam:g}: held-out RMSE per sweep")
plt.show()

# %%
# Test errors
# -----------
# The chosen model, refitted on the whole training set, against the training mean.

t0 = time.perf_counter()
model = fit(train, rank, lam)
seconds = time.perf_counter() - t0
mean_only = np.clip(np.full(test.size, ratings[train].mean()), 0.5, 5.0) - ratings[test]
print(f"training mean     RMSE {np.sqrt(np.mean(mean_only**2)):.4f}  "
      f"MAE {np.mean(np.abs(mean_only)):.4f}")
print("AltMin + biases   RMSE {:.4f}  MAE {:.4f}".format(*errors(model, test))
      + f"  (fit {seconds:.2f} s, {model.n_iter} sweeps; offset {model.offset:.2f})")

# %%
# Recommendations for one user
# ----------------------------
# The five movies with the highest score (the prediction before clipping, so that movies
# predicted above 5 stars are still told apart) among those the user has not rated (in
# either part), restricted to movies with at least 10 training ratings.  The shipped
# ``ratings.csv`` has no titles: the ids are MovieLens ``movieId`` values, which its
# ``movies.csv`` (not shipped here) maps to titles.

user = 0
movie_ids = np.unique(data.movie_ids)  # column j of the matrix is movie_ids[j]
counts = np.bincount(movies[train], minlength=data.shape[1])
seen = np.zeros(data.shape[1], dtype=bool)
seen[movies[users == user]] = True
candidates = np.flatnonzero(~seen & (counts >= 10))
scores = model.predict(np.full(candidates.size, user), candidates)
top = np.argsort(-scores, kind="stable")[:5]
print(f"user {data.user_ids[users == user][0]} rated {seen.sum()} movies; top 5 of "
      f"{candidates.size} candidates:")
for t in top:
    j = candidates[t]
    print(f"    movieId {movie_ids[j]:6d}: score {scores[t]:.2f}, predicted rating "
          f"{np.clip(scores[t], 0.5, 5.0):.2f} ({counts[j]} training ratings)")
