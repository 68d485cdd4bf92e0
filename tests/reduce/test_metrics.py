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


def test_nested_errors_survive_round_off_indefinite_grams():
    # A dead unit and float32 round-off make the Gram slightly indefinite; the nested
    # errors must still come out (the ridge is raised until Cholesky succeeds).
    from netgraph.reduce.metrics import nested_reconstruction_errors, unit_reconstruction_error

    rng = np.random.default_rng(0)
    samples = rng.normal(size=(40, 6)) @ rng.normal(size=(6, 10))
    samples[:, 3] = 0.0
    covariance = np.cov(samples, rowvar=False) - 1e-7 * np.eye(10)
    order = np.arange(10)
    errors = nested_reconstruction_errors(covariance, order, [2, 5, 8])
    assert all(np.isfinite(errors))
    assert errors[0] >= errors[1] >= errors[2] >= 0
    assert abs(errors[1] - unit_reconstruction_error(covariance, order[:5])) < 1e-3
