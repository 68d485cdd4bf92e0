"""``netgraph reduce``: a smaller model (plan.json + model.safetensors) and a before/after report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from netgraph_cli.errors import BadInput, handle_errors
from netgraph_cli.options import (METHOD_CHOICES, BatchSizeOpt, Budget, DataOpt, ExportFormat, Fold, Method, ModelArg,
                                  SamplesOpt, SeedOpt, UnsafePickleOpt, WeightsOpt, parse_formats)

__all__ = ["reduce", "run_reduction"]


def _finetune(reduced, original, data, info, *, epochs: int, distill: bool, lr: float, seed: int, progress) -> dict[str, Any]:
    """Train ``reduced`` in place; return the report's ``finetune`` section."""
    from netgraph.train import distill as distill_model
    from netgraph.train import finetune

    def callback(event: dict) -> None:
        if event.get("event") == "epoch":
            progress(f"loss {event.get('train_loss', float('nan')):.4f}", int(event.get("epoch", 0)), epochs)

    if info.text:
        from netgraph.zoo import sentence_embeddings

        history = distill_model(reduced, original, data.calibration, objective="cosine", epochs=epochs, lr=lr, seed=seed,
                                output_fn=sentence_embeddings, callback=callback)
        distilled = True
    elif distill or data.train is None:
        # Without labels the only teacher is the original model.
        source = data.train if data.train is not None else data.calibration
        history = distill_model(reduced, original, source, epochs=epochs, lr=lr, seed=seed, callback=callback)
        distilled = True
    else:
        history = finetune(reduced, data.train, epochs=epochs, lr=lr, seed=seed, callback=callback)
        distilled = False
    return {
        "epochs": epochs,
        "distill": distilled,
        "lr": lr,
        "history": {"train_loss": [float(v) for v in history.train_loss]},
    }


def run_reduction(model_spec: str, data_spec: Optional[str], weights: Optional[Path], unsafe_pickle: bool, *,
                  keep: float, method: str, fold: str, groups: Optional[str], finetune_epochs: int, distill: bool,
                  lr: float, samples: int, batch_size: int, seed: int, budget: str = "group",
                  reference_spec: Optional[str] = None, mix: float = 0.0, round_to: int = 1,
                  with_example: bool = False):
    """Plan, apply, optionally fine-tune; returns ``(original, reduced, plan, report)``, and the
    example inputs as a fifth item with ``with_example`` (what ``--export`` traces).

    ``reference_spec`` (default: the built-in text ``zoo:text`` for text models, ``none`` to
    skip) is scored beside the held-out data and, with ``mix``, mixed into calibration.
    """
    import copy

    from netgraph import apply_plan, plan_reduction
    from netgraph.report import build_reduction_report
    from netgraph.select import method_needs_data
    from netgraph_cli.commands._shared import load_inputs
    from netgraph_cli.progress import status, steps

    if not (0 < keep <= 1):
        raise BadInput(f"--keep must be a fraction in (0, 1], e.g. 0.5; got {keep}.")
    if groups is not None:
        import re

        try:
            re.compile(groups)
        except re.error as error:  # before the model loads, not after
            raise BadInput(f"--groups {groups!r} is not a valid regular expression ({error}).") from error
    if not 0 <= mix <= 1:
        raise BadInput(f"--mix must be a fraction in [0, 1], e.g. 0.25; got {mix}.")
    if reference_spec is not None and reference_spec.lower() != "none":
        from netgraph.sources import check_data_spec

        check_data_spec(reference_spec)  # a typo fails before the model loads
    need_data = fold == "lstsq" or method_needs_data(method) or finetune_epochs > 0
    model, example, info, data = load_inputs(model_spec, data_spec, weights, unsafe_pickle, samples=samples,
                                             batch_size=batch_size, seed=seed, need_data=need_data)
    reference = _reference_data(reference_spec, data_spec, model, info, data, mix, samples=samples,
                                batch_size=batch_size, seed=seed)
    calibration = None if data is None else data.calibration
    if mix > 0:
        from netgraph.fidelity import mix_calibration

        calibration = mix_calibration(calibration, reference.calibration, mix)
    with steps(f"Planning ({method}, fold {fold})") as progress:
        plan = plan_reduction(model, example, keep=keep, method=method, fold=fold,
                              calibration=calibration, groups=groups,
                              random_state=seed, budget=budget, round_to=round_to, progress=progress)
    if not any(group.dropped.size for group in plan.groups):
        raise BadInput(
            f"Nothing to remove: every reducible group keeps all its units at --keep {keep}; "
            "lower --keep (e.g. 0.5) or choose other --groups."
        )
    reduced = apply_plan(model, plan)
    before_finetune = None
    finetune_info = None
    if finetune_epochs > 0:
        before_finetune = copy.deepcopy(reduced)
        with steps("Fine-tuning" + (" (distillation)" if distill else "")) as progress:
            finetune_info = _finetune(reduced, model, data, info, epochs=finetune_epochs, distill=distill, lr=lr,
                                      seed=seed, progress=progress)
        reduced.eval()
    status("Measuring before/after …")
    held_out = None if data is None else data.held_out
    domain = None
    if data is not None and data.held_out:
        domain = _score_domains(model, reduced, data, reference, mix)
        plan.diagnostics["fidelity"] = domain
    report = build_reduction_report(
        model, reduced, plan, example, held_out, labels=None if data is None else data.held_out_labels,
        before_finetune=before_finetune, finetune=finetune_info, model_info=info.to_dict(),
        data_info=None if data is None else {"source": data.source, "n_calibration": data.n_calibration,
                                             "n_held_out": data.n_held_out, **_domain_info(domain)},
        calibration=None if data is None else data.calibration,
    )
    if with_example:
        return model, reduced, plan, report, example
    return model, reduced, plan, report


def _reduce_transformer(model_spec, data_spec, weights, unsafe_pickle, out: Path, target_params: float, kinds: str, *,
                        samples: int, batch_size: int, seed: int) -> None:
    """``--target-params``: one budget across unit kinds (netgraph.transformer), save_pretrained folder."""
    from netgraph.transformer.budget import reduce_and_save
    from netgraph_cli.commands._shared import load_inputs
    from netgraph_cli.progress import status

    if not 0 < target_params < 1:
        raise BadInput(f"--target-params must be a fraction in (0, 1), e.g. 0.5; got {target_params}.")
    model, _, info, data = load_inputs(model_spec, data_spec, weights, unsafe_pickle, samples=samples,
                                       batch_size=batch_size, seed=seed, need_data=True)
    status(f"Reducing to {target_params:.0%} of the parameters ({kinds}) …")
    summary = reduce_and_save(model, data.calibration, out, target_params, kinds=[k.strip() for k in kinds.split(",") if k.strip()],
                              tokenizer=info.tokenizer, held_out=data.held_out)
    for key, value in summary.items():
        if key != "warnings":
            typer.echo(f"{key}: {value}")
    for line in summary["warnings"]:
        typer.echo(f"Warning: {line}", err=True)
    status(f"Reduced model written to {out} (save_pretrained; loads with transformers.AutoModel.from_pretrained)")


_REFERENCE_SAMPLES = 512  # reference held-out samples scored: enough for a stable mean cosine


def _reference_data(reference_spec, data_spec, model, info, data, mix: float, *, samples: int, batch_size: int,
                    seed: int):
    """The reference data set, or None (no data, ``none``, or the same as the data)."""
    from netgraph.sources import default_data_spec, load_data

    if not 0 <= mix <= 1:
        raise BadInput(f"--mix must be a fraction in [0, 1], e.g. 0.25; got {mix}.")
    spec = reference_spec or ("zoo:text" if info.text else None)
    if spec is None or spec.lower() == "none" or data is None or spec == (data_spec or default_data_spec(info)):
        if mix > 0:
            raise BadInput("--mix needs reference data other than DATA; pass --reference-data (e.g. zoo:text).")
        return None
    return load_data(spec, model, info, n_samples=samples, batch_size=batch_size, seed=seed)


def _score_domains(model, reduced, data, reference, mix: float) -> dict[str, Any]:
    """Held-out fidelity, reference fidelity and the specialisation check (plan.json records them)."""
    from netgraph.batches import batch_size as rows_of
    from netgraph.fidelity import score_reduction

    scored = None
    if reference is not None and reference.held_out:
        scored, total = [], 0
        for batch in reference.held_out:
            if total >= _REFERENCE_SAMPLES:
                break
            scored.append(batch)
            total += rows_of(batch)
    result = score_reduction(model, reduced, data.held_out, scored, labels=data.held_out_labels)
    result["mix"] = mix
    if reference is not None:
        result["reference_source"] = reference.source
    return result


def _domain_info(domain: dict[str, Any] | None) -> dict[str, Any]:
    if not domain or "specialisation" not in domain:
        return {}
    return {"reference": {"source": domain.get("reference_source"), **domain["reference"]},
            "specialisation": domain["specialisation"], "mix": domain["mix"]}


def _calibration_warnings(plan) -> list[str]:
    """The calibration guard's findings (netgraph/reduce/guard.py), one line per group."""
    lines = []
    for group_plan in plan.groups:
        metrics, name = group_plan.metrics, group_plan.group.name
        if metrics.get("calibration_warning"):
            lines.append(f"{name}: {metrics['calibration_warning']}.")
        for consumer, reason in (metrics.get("fallback") or {}).items():
            lines.append(f"{name} → {consumer}: {reason}.")
    return lines


@handle_errors
def reduce(
    model: ModelArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for plan.json, model.safetensors and the report (replaced whole; see netgraph --help).")],
    keep: Annotated[float, typer.Option("--keep", "-k", help="Fraction of units to keep in each group, in (0, 1].")] = 0.5,
    method: Annotated[Method, typer.Option("--method", "-m", metavar="METHOD",
                                           help=f"How units are chosen: {METHOD_CHOICES}.")] = Method.sbm,
    fold: Annotated[Fold, typer.Option("--fold", help="How dropped units are compensated.")] = Fold.lstsq,
    data: DataOpt = None,
    groups: Annotated[Optional[str], typer.Option("--groups", help="Regex of the unit groups to reduce (default: all foldable).")] = None,
    budget: Annotated[Budget, typer.Option("--budget", help="group: keep the fraction in every group; global: share one budget across groups by their error curves.")] = Budget.group,
    finetune_epochs: Annotated[int, typer.Option("--finetune-epochs", min=0, help="Fine-tune the reduced model for N epochs.")] = 0,
    distill: Annotated[bool, typer.Option("--distill", help="Fine-tune by distillation from the original model.")] = False,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Fine-tuning learning rate.")] = 1e-3,
    format: Annotated[str, typer.Option("--format", "-f", help="Report files: comma-separated html, md, json.")] = "html,md,json",
    weights: WeightsOpt = None,
    unsafe_pickle: UnsafePickleOpt = False,
    samples: SamplesOpt = 512,
    batch_size: BatchSizeOpt = 128,
    seed: SeedOpt = 0,
    reference_data: Annotated[Optional[str], typer.Option(
        "--reference-data", metavar="DATA",
        help="Other data to score the reduced model on, to catch a model specialised to DATA "
             "(default for text models: zoo:text, the built-in real English; 'none' to skip).")] = None,
    mix: Annotated[float, typer.Option(
        "--mix", min=0.0, max=1.0,
        help="Share of the calibration set taken from --reference-data, so units are chosen for both domains.")] = 0.0,
    round_to: Annotated[int, typer.Option(
        "--round-to", min=1, help="Round each group's kept count to a multiple of N; 8 suits CPU kernels.")] = 1,
    export: Annotated[Optional[ExportFormat], typer.Option(
        "--export", help="Also write the reduced model as model.onnx, checked in onnxruntime (needs netgraph\\[export]).")] = None,
    target_params: Annotated[Optional[float], typer.Option(
        "--target-params", min=0.0, max=1.0,
        help="Hugging Face transformers: keep this fraction of the parameters, shared across --kinds; "
             "writes a save_pretrained folder.")] = None,
    kinds: Annotated[str, typer.Option(
        "--kinds", help="With --target-params: comma-separated ffn, heads, depth, vocab (vocab trims unseen tokens).")] = "ffn,heads",
) -> None:
    """Make MODEL smaller: choose units, merge the rest into them, rebuild, optionally fine-tune.

    Writes plan.json + model.safetensors (load with netgraph.load_reduced) and a before/after report:
    parameters, MACs, size on disk, CPU latency, fidelity on held-out data.
    """
    from netgraph_cli.commands._shared import check_output_dir
    from netgraph_cli.progress import status, stdout_console

    formats = parse_formats(format)
    check_output_dir(out)
    if target_params is not None:
        _reduce_transformer(model, data, weights, unsafe_pickle, out, target_params, kinds,
                            samples=samples, batch_size=batch_size, seed=seed)
        return
    if distill and finetune_epochs == 0:
        raise BadInput("--distill trains the reduced model; add --finetune-epochs N (e.g. 3).")
    if export is not None:  # a missing extra is found before minutes of planning, not after
        from netgraph.export import check_export_dependencies

        check_export_dependencies()
    _, reduced, plan, report, example = run_reduction(
        model, data, weights, unsafe_pickle, keep=keep, method=method.value, fold=fold.value, groups=groups,
        finetune_epochs=finetune_epochs, distill=distill, lr=lr, samples=samples, batch_size=batch_size, seed=seed,
        budget=budget.value, reference_spec=reference_data, mix=mix, round_to=round_to, with_example=True,
    )
    from netgraph import save_reduced
    from netgraph.report import print_report, staged_directory, write_report

    print_report(report, stdout_console())
    warnings = _calibration_warnings(plan)
    if warnings:  # shown even with --quiet: the result may be worse than the numbers suggest
        report["warnings"] = warnings
        for line in warnings:
            typer.echo(f"Warning: {line}", err=True)
    specialisation = (report.get("data") or {}).get("specialisation")
    if specialisation:
        status(specialisation["sentence"])
    with staged_directory(out) as staging:
        save_reduced(reduced, plan, staging)
        write_report(report, staging, formats)
        if export is not None:
            from netgraph_cli.commands.export import write_export

            status(f"Exporting to {export.value} …")
            exported = write_export(reduced, example, staging / f"model.{export.value}", export.value)
    status(f"Reduced model written to {out} (plan.json, model.safetensors); report: {out / 'report.html'}")
    if export is not None:
        status(exported.replace(str(staging), str(out)))
