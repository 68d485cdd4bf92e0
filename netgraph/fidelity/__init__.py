"""Held-out fidelity of reduced models, and whether they are specialised to their calibration data.

A reduction chooses and folds units on calibration data; how well the reduced model fits
*that* data says little about other inputs. This package scores a reduced model against
its original on data the reduction did not see: for encoders the mean cosine between
embeddings and retrieval agreement (overlap of each sample's 10 nearest neighbours before
and after); for classifiers agreement with the original's predictions and accuracy. It
also compares in-domain with reference scores (:func:`check_specialisation`) and builds
calibration sets that mix in reference data (:func:`mix_calibration`).

Examples
--------
>>> import torch
>>> from netgraph.fidelity import measure_fidelity
>>> model = torch.nn.Linear(4, 3)
>>> measure_fidelity(model, model, [torch.randn(30, 4)]).headline
1.0
"""

from netgraph.fidelity.domains import SpecialisationCheck, check_specialisation, mix_calibration
from netgraph.fidelity.holdout import score_reduction, split_holdout
from netgraph.fidelity.metrics import accuracy, mean_cosine, prediction_agreement, retrieval_agreement
from netgraph.fidelity.outputs import collect_outputs, output_kind
from netgraph.fidelity.score import Fidelity, compare_outputs, measure_fidelity

__all__ = [
    "Fidelity",
    "SpecialisationCheck",
    "accuracy",
    "check_specialisation",
    "collect_outputs",
    "compare_outputs",
    "mean_cosine",
    "measure_fidelity",
    "mix_calibration",
    "output_kind",
    "prediction_agreement",
    "retrieval_agreement",
    "score_reduction",
    "split_holdout",
]
