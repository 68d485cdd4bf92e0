"""Package discovery for setuptools (everything else lives in pyproject.toml).

``netgraph/`` installs as ``netgraph`` and the CLI folder ``cli/`` as ``netgraph_cli``;
both are searched here so that a new subpackage (or a data folder such as
``netgraph/report/templates``) is installed without editing a list.
"""

from setuptools import find_namespace_packages, setup

_SKIP = ["__pycache__", "*.__pycache__"]

packages = find_namespace_packages(include=["netgraph", "netgraph.*"], exclude=_SKIP)
packages += ["netgraph_cli"] + [
    f"netgraph_cli.{name}" for name in find_namespace_packages(where="cli", exclude=_SKIP)
]

setup(packages=packages, package_dir={"netgraph": "netgraph", "netgraph_cli": "cli"})
