"""`import tinygradnn` loads NumPy and the standard library only: scipy.special (which takes about as
long to import as the rest of tinygradnn) is imported by the first op that needs it, and the extras
(matplotlib, tqdm, scikit-learn, torch) never by the core."""

import math
import subprocess
import sys

SCRIPT = """
import sys
import tinygradnn as tg
heavy = ("scipy", "matplotlib", "tqdm", "sklearn", "torch")
print(sorted({m.split(".")[0] for m in sys.modules} & set(heavy)))
x = tg.tensor([0.5], requires_grad=True)
tg.nn.functional.gelu(x).sum().backward()
print("scipy" in sys.modules)
print(x.grad.item())
"""


def test_import_loads_no_heavy_module_until_an_op_needs_it():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "True"
    phi = math.exp(-0.125) / math.sqrt(2 * math.pi)  # d/dx x*Phi(x) = Phi(x) + x*phi(x), at x = 0.5
    assert math.isclose(float(out[2]), 0.5 * (1 + math.erf(0.5 / math.sqrt(2))) + 0.5 * phi, rel_tol=1e-6)
