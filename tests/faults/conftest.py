"""The fault-injection suite: every test here is marked ``faults`` (``make test`` runs them as its last tier)."""

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)
