"""mnist() and read_idx on small IDX files the tests write, raw and gzipped,
and the download path against a local file:// mirror (no network)."""
import gzip
import hashlib
import importlib
import urllib.request

import numpy as np
import pytest

from chainrule.data.datasets import mnist
from chainrule.data.datasets.idx import read_idx

# the package exports the function under the module's name, so fetch the module itself
mnist_module = importlib.import_module("chainrule.data.datasets.mnist")

TYPE_CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype("i2"): 0x0B,
              np.dtype("i4"): 0x0C, np.dtype("f4"): 0x0D, np.dtype("f8"): 0x0E}


def _idx_bytes(array):
    """The IDX encoding, written out by hand from the format's description."""
    header = bytes([0, 0, TYPE_CODES[array.dtype], array.ndim])
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _write(path, array, compress=False):
    content = _idx_bytes(array)
    if compress:
        path = path.with_name(path.name + ".gz")
        content = gzip.compress(content)
    path.write_bytes(content)
    return path


def _fake_mnist(folder, prefix, n, seed, compress=False):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / f"{prefix}-images-idx3-ubyte", images, compress)
    _write(folder / f"{prefix}-labels-idx1-ubyte", labels, compress)
    return images, labels


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("train, prefix", [(True, "train"), (False, "t10k")])
def test_reads_raw_and_gzipped_files(tmp_path, compress, train, prefix):
    images, labels = _fake_mnist(tmp_path, prefix, 7, seed=1, compress=compress)
    x, y = (t.data for t in mnist(tmp_path, train=train).tensors)
    assert x.shape == (7, 1, 28, 28) and x.dtype == np.float32
    assert y.shape == (7,) and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0], images.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(y, labels)
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_train_and_test_files_are_kept_apart(tmp_path):
    _, train_labels = _fake_mnist(tmp_path, "train", 5, seed=1)
    _, test_labels = _fake_mnist(tmp_path, "t10k", 3, seed=2)
    assert len(mnist(tmp_path, train=True)) == 5
    np.testing.assert_array_equal(mnist(tmp_path, train=False).tensors[1].data, test_labels)


def test_finds_torchvision_layout(tmp_path):
    _, labels = _fake_mnist(tmp_path / "MNIST" / "raw", "t10k", 4, seed=3, compress=True)
    np.testing.assert_array_equal(mnist(str(tmp_path), train=False).tensors[1].data, labels)


def test_missing_file_says_where_and_how(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("mnist touched the network without download=True")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    with pytest.raises(FileNotFoundError,
                       match=r"train-images-idx3-ubyte \(or train-images-idx3-ubyte.gz\) not "
                             r"found in .*pass download=True"):
        mnist(tmp_path)


def test_wrong_magic_number_is_named(tmp_path):
    _fake_mnist(tmp_path, "train", 3, seed=0)
    labels = np.zeros(3, np.uint8)
    _write(tmp_path / "train-images-idx3-ubyte", labels)     # a labels file in the wrong place
    with pytest.raises(ValueError, match=r"magic number 2049 .* expected 2051"):
        mnist(tmp_path)


def test_not_an_idx_file(tmp_path):
    path = tmp_path / "junk"
    path.write_bytes(b"\x89PNG\r\n\x1a\n....")
    with pytest.raises(ValueError, match=r"not an IDX file \(magic number 0x89504e47"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="too short for an IDX header"):
        read_idx(path)


def test_truncated_file(tmp_path):
    content = _idx_bytes(np.zeros((4, 28, 28), np.uint8))
    path = tmp_path / "cut"
    path.write_bytes(content[:-10])
    with pytest.raises(ValueError, match=r"holds 3126 bytes of data but its header promises shape "
                                         r"\(4, 28, 28\) of uint8 \(3136 bytes\).*truncated"):
        read_idx(path)
    path.write_bytes(content[:9])
    with pytest.raises(ValueError, match="ends inside its header"):
        read_idx(path)


def test_image_and_label_counts_must_agree(tmp_path):
    _fake_mnist(tmp_path, "train", 5, seed=0)
    _write(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="holds 5 images but train-labels-idx1-ubyte holds 4"):
        mnist(tmp_path)


def test_labels_beyond_nine_are_rejected(tmp_path):
    _fake_mnist(tmp_path, "train", 2, seed=0)
    _write(tmp_path / "train-labels-idx1-ubyte", np.array([3, 12], np.uint8))
    with pytest.raises(ValueError, match="has label 12; MNIST labels are 0..9"):
        mnist(tmp_path)


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
def test_read_idx_round_trips_every_type(tmp_path, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    out = read_idx(_write(tmp_path / "a", array, compress=True))
    np.testing.assert_array_equal(out, array)
    assert out.dtype == np.dtype(dtype) and out.flags.writeable


def _mirror(tmp_path, monkeypatch, n=6):
    """A file:// mirror serving gzipped fake MNIST files, with their MD5s registered."""
    served = tmp_path / "mirror"
    arrays = _fake_mnist(served, "t10k", n, seed=9, compress=True)
    checksums = {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in served.iterdir()}
    monkeypatch.setattr(mnist_module, "MIRRORS", (served.as_uri() + "/",))
    monkeypatch.setattr(mnist_module, "MD5", checksums)
    return arrays


def test_download_fetches_checks_and_loads(tmp_path, monkeypatch):
    images, labels = _mirror(tmp_path, monkeypatch)
    root = tmp_path / "data" / "mnist"
    ds = mnist(root, train=False, download=True)
    assert sorted(p.name for p in root.iterdir()) == ["t10k-images-idx3-ubyte.gz",
                                                      "t10k-labels-idx1-ubyte.gz"]
    np.testing.assert_array_equal(ds.tensors[1].data, labels)
    np.testing.assert_array_equal(ds.tensors[0].data[:, 0] * 255, images)


def test_download_rejects_a_corrupt_file(tmp_path, monkeypatch):
    _mirror(tmp_path, monkeypatch)
    monkeypatch.setitem(mnist_module.MD5, "t10k-images-idx3-ubyte.gz", "0" * 32)
    with pytest.raises(RuntimeError, match=r"could not download t10k-images-idx3-ubyte.gz.*"
                                           r"is not the expected 0{32}"):
        mnist(tmp_path / "root", train=False, download=True)
    assert not (tmp_path / "root" / "t10k-images-idx3-ubyte.gz").exists()


def test_download_failure_is_clear_when_offline(tmp_path, monkeypatch):
    monkeypatch.setattr(mnist_module, "MIRRORS", ((tmp_path / "nowhere").as_uri() + "/",))
    with pytest.raises(RuntimeError, match=r"could not download train-images-idx3-ubyte.gz "
                                           r"\(are you offline\?\).*by hand into"):
        mnist(tmp_path / "root", download=True)


@pytest.mark.parametrize("kwargs, message", [
    ({"train": "test"}, "train must be True or False"),
    ({"download": 1}, "download must be True or False"),
])
def test_bad_flags(tmp_path, kwargs, message):
    with pytest.raises(TypeError, match=message):
        mnist(tmp_path, **kwargs)
