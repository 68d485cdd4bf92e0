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
    code = "import sys, netgraph; print(sorted(m for m in ('graspologic', 'transformers', 'matplotlib', 'sklearn') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
