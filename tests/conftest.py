from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def scheme():
    from villagescore.io.schemes import load

    return load("pingbian")


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="write the golden files (tests/golden/) from the code as it is, instead of comparing")


@pytest.fixture(scope="session")
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")
