"""Names available to the docstring examples (run by ``pytest --doctest-modules``)."""

import numpy as np
import pytest

import tinygradnn


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace.update(np=np, tinygradnn=tinygradnn, tg=tinygradnn, nn=tinygradnn.nn)
