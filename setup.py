"""Which folders of the checkout become which installed packages (the metadata is in pyproject.toml).

The repository keeps the design's top-level folders; the wheel installs them under kconform-prefixed import
names, so no generic name such as `fixtures` (an existing PyPI package) is ever installed:

    kconform/   -> kconform            the engine (and its subpackages, found)
    fixtures/   -> kconform_fixtures   the pytest plugin (entry point `pytest11: kconform`)
    scenarios/  -> kconform_scenarios  one test module per documented workflow
    manifests/  -> kconform_manifests  YAML data and the client pod's entry script
"""

from setuptools import find_packages, setup

MAPPED = {
    "kconform_fixtures": "fixtures",
    "kconform_scenarios": "scenarios",
    "kconform_manifests": "manifests",
}

setup(
    packages=[*find_packages(include=["kconform", "kconform.*"]), *MAPPED],
    package_dir=MAPPED,
    package_data={
        "kconform": ["py.typed"],
        "kconform_fixtures": ["py.typed"],
        "kconform_scenarios": ["kconform-run.ini"],
        "kconform_manifests": ["*/*.yaml", "*/*.properties", "*/*.py"],
    },
)
