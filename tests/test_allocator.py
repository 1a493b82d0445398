"""tinygradnn keeps freed array memory (glibc mallopt at import): steps stop page-faulting."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux only")

# Minor page faults over 20 "steps" that each allocate and free eight 1 MB arrays.
SCRIPT = """
import resource, numpy as np, tinygradnn
def step():
    arrays = [np.ones((512, 512), np.float32) for _ in range(8)]
    del arrays
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(tinygradnn._allocator.MALLOC_TUNED, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(tuning: str) -> tuple[str, int]:
    env = {**os.environ, "TINYGRADNN_MALLOC_TUNING": tuning}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    tuned, faults = out.stdout.split()
    return tuned, int(faults)


def test_freed_arrays_are_reused_without_page_faults():
    tuned, faults = page_faults("1")
    if tuned != "True":
        pytest.skip("this C library has no mallopt")
    untuned_flag, untuned = page_faults("0")
    assert untuned_flag == "False"
    # 20 steps x 8 MB of fresh pages is about 40k faults untuned; reused heap memory needs none.
    assert faults < untuned / 10, (faults, untuned)
