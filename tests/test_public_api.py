import subprocess
import sys

import netgraph


def test_public_names_exist():
    for name in netgraph.__all__:
        assert getattr(netgraph, name) is not None


def test_lazy_submodules_and_training_functions():
    assert netgraph.train.finetune is netgraph.finetune
    assert callable(netgraph.distill)
    assert netgraph.zoo.MODELS


def test_import_stays_light():
    heavy = "('torch', 'numpy', 'graspologic', 'transformers', 'matplotlib', 'sklearn')"
    code = f"import sys, netgraph, netgraph.select.catalog; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_calibrate_stays_the_function_after_its_subpackage_loads():
    import netgraph.calibrate.stats  # noqa: F401 - importing the subpackage must not shadow the function
    from netgraph import calibrate

    assert callable(netgraph.calibrate) and calibrate is netgraph.calibrate
    assert netgraph.calibrate.__module__ == "netgraph.calibrate.calibrate"


def test_unknown_names_raise_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        netgraph.nothing_here  # noqa: B018


def test_typed_configuration_is_public():
    config = netgraph.ReductionConfig(keep=0.5, method="sbm", fold="exact", method_params={"max_blocks": 4})
    assert netgraph.ReductionConfig.from_dict(config.to_dict()) == config
    assert callable(netgraph.plan_from_config)
    assert netgraph.train.TrainingOptions(epochs=1).epochs == 1
