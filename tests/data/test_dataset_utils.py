"""TensorDataset, Subset, ConcatDataset and random_split."""

import numpy as np
import pytest

import tinygradnn as tg
from tinygradnn.data import ConcatDataset, Subset, TensorDataset, random_split


def test_tensor_dataset_of_tensors_and_arrays():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    ds = TensorDataset(tg.tensor(X), np.arange(6))
    assert len(ds) == 6
    x, y = ds[2]
    assert isinstance(x, tg.Tensor) and x.tolist() == [4.0, 5.0] and y.item() == 2
    assert ds.get_batch(np.array([5, 0]))[0].tolist() == [[10.0, 11.0], [0.0, 1.0]]
    with pytest.raises(ValueError, match=r"Size mismatch.*\[6, 5\]"):
        TensorDataset(X, np.arange(5))
    with pytest.raises(TypeError, match="Tensors or NumPy arrays"):
        TensorDataset([1, 2, 3])
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_tensor_dataset_does_not_copy_arrays():
    X = np.zeros((3, 2), dtype=np.float32)
    ds = TensorDataset(X)
    X[1] = 5
    assert ds[1][0].tolist() == [5.0, 5.0]


def test_tensor_dataset_of_a_tensor_requiring_grad_keeps_the_graph():
    # as PyTorch: the dataset holds the tensor itself, and samples and batches are differentiable views of it
    x = tg.tensor(np.arange(8.0).reshape(4, 2), requires_grad=True)
    ds = TensorDataset(x, np.arange(4))
    assert ds.tensors[0] is x
    sample, label = ds[1]
    assert sample.requires_grad and not label.requires_grad
    (sample * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0], [3, 3], [0, 0], [0, 0]])
    x.grad = None
    fast = tg.data.DataLoader(ds, batch_size=2)  # the get_batch path
    slow = tg.data.DataLoader(ds, batch_size=2, collate_fn=lambda b: tg.data.default_collate(b))
    for loader, weight in ((fast, 1.0), (slow, 10.0)):
        for xb, yb in loader:
            assert xb.requires_grad and not yb.requires_grad
            (xb * weight).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((4, 2), 11.0))
    assert ds.get_batch(np.array([3, 0]))[0].requires_grad
    plain = TensorDataset(x.detach())
    assert not plain[0][0].requires_grad and not plain.get_batch(np.array([0]))[0].requires_grad


@pytest.mark.parametrize("lengths,sizes", [([7, 3], [7, 3]), ([0.5, 0.3, 0.2], [5, 3, 2]),
                                           ([0.34, 0.33, 0.33], [4, 3, 3]), ([1.0], [10]), ([10, 0], [10, 0])])
def test_random_split_sizes_and_disjointness(lengths, sizes):
    ds = TensorDataset(np.arange(10))
    parts = random_split(ds, lengths, generator=tg.Generator().manual_seed(0))
    assert [len(p) for p in parts] == sizes
    everything = sorted(i for p in parts for i in p.indices)
    assert everything == list(range(10))
    assert all(isinstance(p, Subset) for p in parts)
    for p in parts:  # a Subset reads through to the dataset
        assert [p[i][0].item() for i in range(len(p))] == list(p.indices)


def test_random_split_takes_lengths_as_a_tensor_or_array():
    ds = TensorDataset(np.arange(10))
    assert [len(p) for p in random_split(ds, tg.tensor(np.array([7, 3])))] == [7, 3]  # as torch.tensor([7, 3])
    assert [len(p) for p in random_split(ds, tg.tensor([0.5, 0.5]))] == [5, 5]
    assert [len(p) for p in random_split(ds, np.array([0.2, 0.8]))] == [2, 8]


def test_random_split_reproducible_and_random():
    ds = TensorDataset(np.arange(50))

    def split(seed):
        return [p.indices for p in random_split(ds, [25, 25], generator=tg.Generator().manual_seed(seed))]

    assert split(1) == split(1) and split(1) != split(2)
    assert split(1)[0] != list(range(25))


def test_random_split_errors():
    ds = TensorDataset(np.arange(10))
    with pytest.raises(ValueError, match=r"Sum of input lengths \(9\) does not equal .* \(10\)"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(ds, [11, -1])
    with pytest.raises(TypeError, match="integers or fractions"):
        random_split(ds, ["5", 5])
    with pytest.warns(UserWarning) as record:
        sizes = [len(p) for p in random_split(TensorDataset(np.arange(2)), [0.9, 0.05, 0.05])]
    assert sizes == [2, 0, 0]
    assert ["index 1 is 0" in str(w.message) for w in record] == [True, False]


def test_concat_dataset():
    a, b = TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 15))
    ds = ConcatDataset([a, b])
    assert len(ds) == 8 and (a + b)[3][0].item() == 10
    assert [ds[i][0].item() for i in range(-8, 8)] == [0, 1, 2, 10, 11, 12, 13, 14] * 2
    with pytest.raises(IndexError):
        ds[8]
    loader = tg.data.DataLoader(ds, batch_size=3)
    assert [b[0].tolist() for b in loader] == [[0, 1, 2], [10, 11, 12], [13, 14]]
