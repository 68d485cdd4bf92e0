"""`netgraph reduce --target-params`: one budget across kinds from the command line."""

import pytest


def _invoke(arguments):
    from typer.testing import CliRunner

    from netgraph_cli.main import app

    return CliRunner().invoke(app, arguments)


def test_target_params_out_of_range_is_one_line_and_exit_2(tmp_path):
    result = _invoke(["reduce", "zoo:minilm", "--target-params", "1.0", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "--target-params" in result.output


@pytest.mark.slow
def test_minilm_half_the_parameters_in_one_call(tmp_path):
    from transformers import AutoModel

    out = tmp_path / "small"
    result = _invoke(["reduce", "zoo:minilm", "--target-params", "0.5", "--kinds", "ffn,heads,vocab", "-o", str(out),
                      "--samples", "96"])
    assert result.exit_code == 0, result.output
    assert "held_out_cosine" in result.output
    from netgraph.zoo.text import load_minilm

    model = AutoModel.from_pretrained(out)
    # A plain AutoModel adds BERT's (unused) pooler; the reduced encoder is what was budgeted.
    encoder = sum(p.numel() for name, p in model.named_parameters() if not name.startswith("pooler"))
    assert encoder <= 0.5 * sum(p.numel() for p in load_minilm().parameters())
