"""Predicted vs measured: does the analysis report say what `netgraph reduce` will do?

For every foldable group of LeNet-300-100, the digits CNN and MiniLM's FFN, the analysis
(:func:`netgraph.analysis.run.analyze_model`) predicts the model's relative output error
(and, with labels, accuracy) at its recommended keep; this benchmark then builds that
reduction (`plan_reduction` with the same method, `fold="lstsq"`, only that group) and
measures it on held-out data. MiniLM's FFN groups are also checked at keep 0.5, where
the prediction is made for the plan's own kept units (what `netgraph reduce` prints).

Targets (issue 13): error within a factor of 1.5, accuracy within 2 points.

Run:  OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_prediction [--quick]
"""

from __future__ import annotations

import argparse
import time

import torch

from netgraph import apply_plan, calibrate, plan_reduction
from netgraph.analysis.prediction import simulate_reduction
from netgraph.analysis.run import analyze_model
from netgraph.report.measure import fidelity, model_outputs

ERROR_FACTOR = 1.5
ACCURACY_POINTS = 0.02


def _vision(name: str, n_calibration: int, n_held_out: int):
    from netgraph.zoo import RECIPES, calibration_batches, load_dataset, load_model

    model = load_model(name).eval()
    recipe = RECIPES[name]
    calibration = calibration_batches(name, n_calibration, 128, seed=0)
    test = load_dataset(recipe.dataset, as_images=recipe.as_images).test
    inputs, labels = test.tensors[0][:n_held_out], test.tensors[1][:n_held_out]
    held_out = list(inputs.split(256))
    return model, calibration, held_out, labels


def _minilm(n_calibration: int, n_held_out: int):
    from netgraph.zoo import calibration_batches, encode_sentences, load_dataset, load_minilm, load_tokenizer

    model = load_minilm().eval()
    calibration = calibration_batches("minilm", n_calibration, 64, seed=0)
    tokenizer = load_tokenizer()
    sentences = load_dataset("text").test[:n_held_out]
    held_out = [encode_sentences(tokenizer, sentences[i:i + 64]) for i in range(0, len(sentences), 64)]
    return model, calibration, held_out, None


def _measure(model, example, calibration, held_out, labels, reference, *, group, keep, method):
    plan = plan_reduction(model, example, keep={group: keep}, method=method, fold="lstsq", calibration=calibration,
                          random_state=0)
    reduced = apply_plan(model, plan)
    task = "embedding" if labels is None else "classification"
    return plan, fidelity(reference, model_outputs(reduced, held_out), labels, task)


def _print_row(row: dict) -> None:
    accuracy = ""
    if "predicted_accuracy" in row:
        accuracy = f"{100 * row['predicted_accuracy']:.1f} / {100 * row['measured_accuracy']:.1f} %"
        accuracy += "" if row["accuracy_ok"] else "  (off target)"
    flag = "" if row["error_ok"] else " *"
    print(f"{row['model']:<14} {row['group']:<40} {row['keep']:>5.2f} {row['method']:<10} "
          f"{row['predicted_error']:>9.4f} {row['measured_error']:>9.4f} {row['ratio']:>6.2f}{flag} {accuracy}", flush=True)


HEADER = f"{'model':<14} {'group':<40} {'keep':>5} {'method':<10} {'pred err':>9} {'meas err':>9} {'ratio':>6}  acc pred/meas"


def _row(model_name, group, keep, method, predicted, measured):
    ratio = predicted["relative_error"] / max(measured["relative_error"], 1e-12)
    row = {"model": model_name, "group": group, "keep": keep, "method": method,
           "predicted_error": predicted["relative_error"], "measured_error": measured["relative_error"],
           "ratio": ratio, "error_ok": 1 / ERROR_FACTOR <= ratio <= ERROR_FACTOR}
    if "accuracy" in measured and "accuracy" in predicted:
        row.update(predicted_accuracy=predicted["accuracy"], measured_accuracy=measured["accuracy"],
                   accuracy_ok=abs(predicted["accuracy"] - measured["accuracy"]) <= ACCURACY_POINTS)
    return row


def run(quick: bool = False, models: tuple[str, ...] = ("lenet-300-100", "cnn-digits", "minilm")) -> list[dict]:
    rows = []
    cases = [("lenet-300-100", lambda: _vision("lenet-300-100", 512, 1000 if quick else 2000)),
             ("cnn-digits", lambda: _vision("cnn-digits", 512, 1000 if quick else 2000))]
    if not quick:
        cases.append(("minilm", lambda: _minilm(256, 128)))
    cases = [case for case in cases if case[0] in models]
    for name, load in cases:
        started = time.perf_counter()
        model, calibration, held_out, labels = load()
        example = calibration[0] if not isinstance(calibration[0], torch.Tensor) else calibration[0][:4]
        labelled = None if labels is None else (held_out, labels)
        report = analyze_model(model, example, calibration, n_shuffles=0, compare_untrained=False, labelled=labelled,
                               held_out=held_out, prediction_samples=128, methods=("magnitude", "activation"))
        reference = model_outputs(model, held_out)
        for entry in report["groups"]:
            recommendation = entry.get("recommendation") or {}
            prediction = entry.get("prediction")
            if prediction and recommendation.get("keep", 1.0) < 1.0:
                _, measured = _measure(model, example, calibration, held_out, labels, reference, group=entry["group"],
                                       keep=recommendation["keep"], method=recommendation["method"])
                rows.append(_row(name, entry["group"], recommendation["keep"], recommendation["method"], prediction,
                                 measured))
                _print_row(rows[-1])
            if name == "minilm":
                plan, measured = _measure(model, example, calibration, held_out, labels, reference,
                                          group=entry["group"], keep=0.5, method="activation")
                groups = [p.group for p in plan.groups]
                stats = calibrate(model, calibration, groups).units
                predicted = simulate_reduction(model, {p.group: p.kept for p in plan.groups}, stats, held_out,
                                               reference=reference)
                rows.append(_row(name, entry["group"], 0.5, "activation", predicted, measured))
                _print_row(rows[-1])
        print(f"{name}: {time.perf_counter() - started:.1f} s", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="LeNet and the CNN only, 1,000 held-out samples")
    parser.add_argument("--models", default="lenet-300-100,cnn-digits,minilm", help="comma-separated subset")
    arguments = parser.parse_args()
    print(HEADER, flush=True)
    rows = run(quick=arguments.quick, models=tuple(arguments.models.split(",")))
    ok = sum(r["error_ok"] for r in rows)
    print(f"error within {ERROR_FACTOR}×: {ok}/{len(rows)} rows; accuracy within {100 * ACCURACY_POINTS:.0f} points: "
          f"{sum(r.get('accuracy_ok', True) for r in rows)}/{len(rows)}")


if __name__ == "__main__":
    main()
