# SPDX-License-Identifier: MIT
# pytest fixtures of the Python suites (tests/vm/test-python.sh runs them in
# the VM, with PYTHONPATH=build/python): the first device, the test models.
import json
import os

import pytest

import mtia

TOP = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(TOP, "build", "models")


@pytest.fixture(scope="session")
def dev():
    d = mtia.Device(int(os.environ.get("MTIA_TEST_DEVICE", "0")))
    yield d
    d.close()


@pytest.fixture(scope="session")
def manifest():
    with open(os.path.join(MODELS, "manifest.json")) as f:
        return {m["name"]: m for m in json.load(f)}


def model_path(name):
    return os.path.join(MODELS, name + ".mtia")
