"""autograd/grad_mode.py: no_grad, enable_grad, set_grad_enabled, inference_mode as context managers
and decorators."""

import pytest

import tinygradnn as tg


def _records(x):
    y = x * 2
    return y.requires_grad, y.grad_fn is not None


def test_no_grad_records_nothing():
    x = tg.ones(3, requires_grad=True)
    with tg.no_grad():
        y = (x * 2).exp().sum()
        assert not tg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf
    assert tg.is_grad_enabled()


def test_no_grad_as_a_decorator_with_and_without_parentheses():
    x = tg.ones(3, requires_grad=True)

    @tg.no_grad()
    def called(t):
        return _records(t)

    @tg.no_grad
    def bare(t):
        """Docstring kept."""
        return _records(t)

    assert called(x) == (False, False)
    assert bare(x) == (False, False)
    assert bare.__doc__ == "Docstring kept." and bare.__name__ == "bare"
    assert _records(x) == (True, True)


def test_enable_grad_inside_no_grad():
    x = tg.ones(3, requires_grad=True)

    @tg.enable_grad
    def inner(t):
        return _records(t)

    with tg.no_grad():
        with tg.enable_grad():
            assert _records(x) == (True, True)
        assert _records(x) == (False, False)
        assert inner(x) == (True, True)
        assert tg.enable_grad()(lambda t: _records(t))(x) == (True, True)
        assert _records(x) == (False, False)


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with tg.no_grad():
            raise ValueError("boom")
    assert tg.is_grad_enabled()

    @tg.no_grad()
    def fails():
        raise KeyError

    with pytest.raises(KeyError):
        fails()
    assert tg.is_grad_enabled()


def test_set_grad_enabled_as_call_context_and_decorator():
    x = tg.ones(2, requires_grad=True)
    with tg.set_grad_enabled(False):
        assert _records(x) == (False, False)
    assert tg.is_grad_enabled()
    tg.set_grad_enabled(False)
    try:
        assert _records(x) == (False, False)
    finally:
        tg.set_grad_enabled(True)
    assert _records(x) == (True, True)

    @tg.set_grad_enabled(False)
    def f(t):
        return _records(t)

    assert tg.is_grad_enabled(), "decorating must not change the mode"
    assert f(x) == (False, False)


def test_inference_mode():
    x = tg.ones(2, requires_grad=True)
    with tg.inference_mode():
        assert _records(x) == (False, False)
    with tg.inference_mode(False):
        assert _records(x) == (True, True)

    @tg.inference_mode()
    def f(t):
        return _records(t)

    assert f(x) == (False, False)


def test_nested_modes_unwind_in_order():
    with tg.no_grad():
        with tg.enable_grad():
            with tg.no_grad():
                assert not tg.is_grad_enabled()
            assert tg.is_grad_enabled()
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


def test_no_grad_still_computes_values_and_inplace_updates():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.no_grad():
        w -= 0.5 * tg.ones(2)
        s = (w * w).sum()
    assert s.item() == pytest.approx(0.25 + 2.25)
    assert w.is_leaf and w.requires_grad


def test_inference_mode_false_as_a_decorator_keeps_recording():
    x = tg.ones(2, requires_grad=True)

    @tg.inference_mode(False)
    def double():
        return x * 2

    with tg.no_grad():
        assert double().requires_grad


def test_decorated_generators_run_each_step_in_the_mode():
    """As PyTorch: the generator's own code runs without grad; the caller's code between steps keeps its mode."""

    @tg.no_grad()
    def steps():
        received = yield tg.is_grad_enabled()
        try:
            yield received, tg.is_grad_enabled()
        except ValueError:
            yield "thrown", tg.is_grad_enabled()

    gen = steps()
    assert next(gen) is False and tg.is_grad_enabled()
    assert gen.send(5) == (5, False)
    assert gen.throw(ValueError()) == ("thrown", False)
    gen.close()
    assert tg.is_grad_enabled()


def test_the_context_managers_give_none_to_as_as_torch():
    for mode in (tg.no_grad(), tg.enable_grad(), tg.inference_mode(), tg.set_grad_enabled(True)):
        with mode as value:
            assert value is None
