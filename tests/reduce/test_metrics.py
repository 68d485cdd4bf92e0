import numpy as np

from netgraph.reduce.metrics import nested_reconstruction_errors, svd_error_curve, unit_reconstruction_error


def _covariance(seed=0, n=20):
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(n, 6))
    samples = rng.normal(size=(500, 6)) @ factors.T + 0.1 * rng.normal(size=(500, n))
    return np.cov(samples, rowvar=False)


def test_nested_errors_match_one_solve_per_prefix():
    covariance = _covariance()
    order = np.random.default_rng(1).permutation(20)
    counts = [1, 3, 6, 10, 19]
    fast = nested_reconstruction_errors(covariance, order, counts)
    slow = [unit_reconstruction_error(covariance, np.sort(order[:k])) for k in counts]
    np.testing.assert_allclose(fast, slow, rtol=1e-6, atol=1e-9)


def test_errors_never_beat_the_svd_bound():
    covariance = _covariance(seed=2)
    bound = svd_error_curve(covariance)
    order = np.argsort(-np.diag(covariance))
    for k, error in zip(range(1, 20), nested_reconstruction_errors(covariance, order, list(range(1, 20)))):
        assert error >= bound[k] - 1e-7
    assert bound[0] == 1.0 and bound[-1] < 1e-6
