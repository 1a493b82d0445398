"""docs/pytorch.md cannot drift from the code.

The page has one table per PyTorch namespace (a heading ``### `torch.nn` ``), whose rows list names in
backticks. For each table:

* every listed name exists at the matching tinygradnn path (``torch.nn`` -> ``tinygradnn.nn``);
* every public name of that tinygradnn module or class is listed;
* with PyTorch installed, every name outside the *tinygradnn only* rows exists in PyTorch at that path,
  and every name in those rows does not.

The "not supported yet" errors are checked here too, against the same namespaces.
"""

import importlib
import inspect
import re
import types
from pathlib import Path

import pytest
from helpers import requires_torch

import tinygradnn
from tinygradnn._unsupported import ALTERNATIVES

DOC = Path(__file__).resolve().parents[1] / "docs" / "pytorch.md"
ONLY_OURS = "*tinygradnn only*"


def _parse(text: str) -> dict[str, dict[str, list[str]]]:
    """``{"torch.nn": {"pytorch": [...], "ours": [...]}}`` from the tables under ``### `torch...` `` headings."""
    tables, section = {}, None
    for line in text.splitlines():
        heading = re.match(r"^#{1,3} ", line)
        if heading:
            m = re.match(r"^### `(torch(?:\.\w+)*)`$", line.strip())
            section = m.group(1) if m else None
            if section:
                assert section not in tables, f"docs/pytorch.md has two tables for {section}"
                tables[section] = {"pytorch": [], "ours": []}
            continue
        if section and line.startswith("|") and not line.startswith("|---"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if cells[0] == "Group":
                continue
            names = re.findall(r"`([^`]+)`", cells[1])
            tables[section]["ours" if cells[0] == ONLY_OURS else "pytorch"].extend(names)
    return tables


TABLES = _parse(DOC.read_text())


def _ours(path: str):
    """The tinygradnn object for a PyTorch path: ``torch.nn.functional`` -> ``tinygradnn.nn.functional``."""
    obj, parts = tinygradnn, path.split(".")[1:]
    for i, part in enumerate(parts):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(["tinygradnn", *parts[:i + 1]]))
    return obj


def _public_names(obj) -> set[str]:
    """What users of ``obj`` see: a class's public attributes, a module's ``__all__`` or else the public names
    defined in the module or its submodules (not helpers it imports, such as ``Tensor`` in ``nn.init``)."""
    if inspect.isclass(obj):
        return {n for n in dir(obj) if not n.startswith("_")}
    if hasattr(obj, "__all__"):
        names = set(obj.__all__)
    else:
        names = {n for n in vars(obj) if not n.startswith("_")
                 and (getattr(getattr(obj, n), "__module__", None) or "").startswith(obj.__name__)}
    return {n for n in names if not isinstance(getattr(obj, n), types.ModuleType)}


def test_the_page_has_every_table():
    assert sorted(TABLES) == sorted([
        "torch", "torch.Tensor", "torch.nn", "torch.nn.Module", "torch.nn.functional", "torch.nn.init",
        "torch.nn.utils", "torch.optim", "torch.optim.Optimizer", "torch.optim.lr_scheduler", "torch.utils.data",
        "torch.autograd"])
    for path, table in TABLES.items():
        listed = table["pytorch"] + table["ours"]
        assert table["pytorch"], f"the {path} table lists no PyTorch names"
        duplicates = sorted({n for n in listed if listed.count(n) > 1})
        assert not duplicates, f"{path}: listed twice in docs/pytorch.md: {duplicates}"


@pytest.mark.parametrize("path", sorted(TABLES))
def test_every_listed_name_exists(path):
    obj = _ours(path)
    missing = [n for n in TABLES[path]["pytorch"] + TABLES[path]["ours"] if not hasattr(obj, n)]
    assert not missing, f"docs/pytorch.md lists names that {obj.__name__} does not have: {missing}"


@pytest.mark.parametrize("path", sorted(TABLES))
def test_every_public_name_is_listed(path):
    obj = _ours(path)
    listed = set(TABLES[path]["pytorch"] + TABLES[path]["ours"])
    unlisted = sorted(_public_names(obj) - listed)
    assert not unlisted, (f"{obj.__name__} has public names that docs/pytorch.md does not list under `{path}`: "
                          f"{unlisted}. Add them to a row of that table (to the '{ONLY_OURS}' row if PyTorch "
                          "has no such name there).")


def _torch_object(path: str):
    import torch

    obj = torch
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


@requires_torch
@pytest.mark.parametrize("path", sorted(TABLES))
def test_pytorch_rows_are_pytorch_names(path):
    theirs = _torch_object(path)
    not_pytorch = [n for n in TABLES[path]["pytorch"] if not hasattr(theirs, n)]
    assert not not_pytorch, f"{path} has no {not_pytorch}: move them to the '{ONLY_OURS}' row"
    pytorch = [n for n in TABLES[path]["ours"] if hasattr(theirs, n)]
    assert not pytorch, f"{path} does have {pytorch}: move them out of the '{ONLY_OURS}' row"


# --------------------------------------------------------------------------- unsupported names
NAMESPACES = sorted(ALTERNATIVES)


@pytest.mark.parametrize("module", NAMESPACES)
def test_unsupported_names_explain_themselves(module):
    obj = importlib.import_module(module)
    for name, hint in ALTERNATIVES[module].items():
        with pytest.raises(AttributeError) as info:
            getattr(obj, name)
        message = str(info.value)
        assert f"{module}.{name} is not supported yet" in message and hint in message
        assert "docs/pytorch.md" in message
        assert not hasattr(obj, name)


@pytest.mark.parametrize("module", NAMESPACES)
def test_unknown_names_say_so_too(module):
    with pytest.raises(AttributeError, match="is not supported yet.*There is no equivalent yet"):
        importlib.import_module(module).frobnicate  # noqa: B018


@pytest.mark.parametrize("module, typo, meant", [
    ("tinygradnn.nn", "Lineaar", "Linear"), ("tinygradnn.nn", "CrossEntropyloss", "CrossEntropyLoss"),
    ("tinygradnn", "tensr", "tensor"), ("tinygradnn.optim", "Adamw", "AdamW"),
    ("tinygradnn.nn.functional", "cross_entopy", "cross_entropy"),
])
def test_a_misspelt_name_gets_the_closest_real_one(module, typo, meant):
    with pytest.raises(AttributeError) as info:
        getattr(importlib.import_module(module), typo)
    message = str(info.value)
    assert f"has no attribute '{typo}'. Did you mean: '{meant}'?" in message and "not supported yet" not in message
    assert "docs/pytorch.md" in message and ".." not in message


def test_private_names_get_the_plain_error():
    with pytest.raises(AttributeError, match="has no attribute '__wrapped__'"):
        tinygradnn.nn.__wrapped__  # noqa: B018  (tools such as inspect probe dunder names)


def test_unsupported_pytorch_names_raise_attribute_error_in_from_imports():
    with pytest.raises(ImportError):
        from tinygradnn.nn import Transformer  # noqa: F401


@requires_torch
@pytest.mark.parametrize("module", NAMESPACES)
def test_alternatives_are_for_real_pytorch_names(module):
    theirs = _torch_object("torch" + module[len("tinygradnn"):])
    assert not [n for n in ALTERNATIVES[module] if not hasattr(theirs, n)]
