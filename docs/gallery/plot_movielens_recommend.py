"""
Recommending movies (MovieLens ml-latest-small)
===============================================

Predict the ratings users would give to movies they have not rated, from the 100,836
ratings (half stars, 0.5 to 5) of 610 users on 9,724 movies in MovieLens
ml-latest-small (F. M. Harper and J. A. Konstan, ACM TiiS 2015; research use only, see
the data set's README).  The recipe:

1. split the ratings, in file order, into 80 % training and 20 % test
   (``numpy.random.default_rng(0).random(100836) < 0.2`` is the test set);
2. centre the training ratings by their mean;
3. fit a user bias and a movie bias by a few alternating ridge passes (the baseline);
4. complete the residual matrix with :func:`lowrank.completion.altmin`, with the
   frequency-weighted ridge that suits rows and columns with very uneven counts, choosing
   the rank k and the ridge λ on a validation part of the *training* set;
5. predict mean + biases + ``U Vᵀ``, clipped to [0.5, 5].

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
# Biases by alternating ridge passes (λ_b = 5 shrinks movies with few ratings towards
# the mean), then AltMin on what they leave.  Rows here are users and columns movies;
# most movies have only a handful of ratings, so the exact per-row solves are the cheap
# choice (the default ``method="robust"`` solves those rows exactly too, and gives the
# same fit).


def fit_biases(rows, cols, centred, shape, lam=5.0, passes=5):
    """User and movie biases minimizing the squared error plus ``lam`` times their
    squared norms, by alternating exact updates."""
    user_counts = np.bincount(rows, minlength=shape[0])
    movie_counts = np.bincount(cols, minlength=shape[1])
    b_user, b_movie = np.zeros(shape[0]), np.zeros(shape[1])
    for _ in range(passes):
        b_movie = np.bincount(cols, centred - b_user[rows], minlength=shape[1]) / (
            lam + movie_counts)
        b_user = np.bincount(rows, centred - b_movie[cols], minlength=shape[0]) / (
            lam + user_counts)
    return b_user, b_movie


class Recommender:
    """Training mean + biases + a rank-``rank`` AltMin fit of the residuals."""

    def __init__(self, idx, rank=None, lam=None, validation=None):
        rows, cols, r = users[idx], movies[idx], ratings[idx]
        self.mean = r.mean()
        self.b_user, self.b_movie = fit_biases(rows, cols, r - self.mean, data.shape)
        self.completion = None
        if rank is not None:
            residual = r - self.mean - self.b_user[rows] - self.b_movie[cols]
            held_out = None
            if validation is not None:  # record the held-out RMSE of every sweep
                v_rows, v_cols = users[validation], movies[validation]
                held_out = (v_rows, v_cols, ratings[validation] - self.mean
                            - self.b_user[v_rows] - self.b_movie[v_cols])
            with warnings.catch_warnings():
                # 20 sweeps are enough: stop there on noisy data without a warning
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.completion = altmin(
                    (rows, cols, residual), rank, shape=data.shape, method="exact",
                    regularization=lam, weighting="frequency", maxiter=20, tol=1e-4,
                    validation=held_out, rng=0)

    def score(self, rows, cols):
        """The model's value, before clipping (it ranks movies above 5 stars too)."""
        p = self.mean + self.b_user[rows] + self.b_movie[cols]
        if self.completion is not None:
            p = p + self.completion.predict(rows, cols)
        return p

    def predict(self, rows, cols):
        return np.clip(self.score(rows, cols), 0.5, 5.0)


def errors(model, idx):
    e = model.predict(users[idx], movies[idx]) - ratings[idx]
    return np.sqrt(np.mean(e**2)), np.mean(np.abs(e))


# %%
# Choosing k and λ on a validation part of the training set
# ---------------------------------------------------------
# 20 % of the training ratings are held out; each (k, λ) is fitted on the rest.

held = np.random.default_rng(1).random(train.size) < 0.2
fit_part, validation = train[~held], train[held]
ranks, lams = (5, 10, 20, 40), (0.05, 0.1, 0.15, 0.2)
grid = np.empty((len(ranks), len(lams)))
for i, rank in enumerate(ranks):
    for j, lam in enumerate(lams):
        grid[i, j] = errors(Recommender(fit_part, rank, lam), validation)[0]
i, j = np.unravel_index(np.argmin(grid), grid.shape)
rank, lam = ranks[i], lams[j]
print(f"validation RMSE:\n{np.round(grid, 4)}\nchosen: k = {rank}, lambda = {lam}")
history = Recommender(fit_part, rank, lam, validation=validation).completion.history

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for i, k in enumerate(ranks):
    left.plot(lams, grid[i], marker="o", label=f"k = {k}")
left.set_xlabel("λ (frequency-weighted ridge)")
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
# The chosen model, refitted on the whole training set, against the training mean and
# the biases alone.

t0 = time.perf_counter()
model = Recommender(train, rank, lam)
seconds = time.perf_counter() - t0
mean_only = np.clip(np.full(test.size, ratings[train].mean()), 0.5, 5.0) - ratings[test]
print(f"training mean     RMSE {np.sqrt(np.mean(mean_only**2)):.4f}  "
      f"MAE {np.mean(np.abs(mean_only)):.4f}")
print("biases only       RMSE {:.4f}  MAE {:.4f}".format(*errors(Recommender(train), test)))
print("biases + AltMin   RMSE {:.4f}  MAE {:.4f}".format(*errors(model, test))
      + f"  (fit {seconds:.2f} s, {model.completion.n_iter} sweeps)")

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
scores = model.score(np.full(candidates.size, user), candidates)
top = np.argsort(-scores, kind="stable")[:5]
print(f"user {data.user_ids[users == user][0]} rated {seen.sum()} movies; top 5 of "
      f"{candidates.size} candidates:")
for t in top:
    j = candidates[t]
    print(f"    movieId {movie_ids[j]:6d}: score {scores[t]:.2f}, predicted rating "
          f"{np.clip(scores[t], 0.5, 5.0):.2f} ({counts[j]} training ratings)")
