"""MNIST from its four standard IDX files, downloaded only when asked.

The files (raw, or gzipped with a ``.gz`` suffix) are looked for in ``root``
and then in ``root/MNIST/raw`` (where torchvision keeps them, so an existing
download is found):

    train-images-idx3-ubyte   train-labels-idx1-ubyte   (60,000 samples)
    t10k-images-idx3-ubyte    t10k-labels-idx1-ubyte    (10,000 samples)
"""
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

import chainrule as cr
from ..dataset import TensorDataset
from .idx import read_idx

IMAGES_MAGIC = 2051    # 0x00000803: uint8, 3-D (count, rows, cols)
LABELS_MAGIC = 2049    # 0x00000801: uint8, 1-D (count,)

FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# Yann LeCun's original site now often refuses downloads; these mirrors serve
# the identical .gz files, checked against the published MD5 sums below.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


def mnist(root, train=True, download=False):
    """MNIST as a ``TensorDataset`` of ``(inputs, targets)``.

    inputs: float32 images of shape (N, 1, 28, 28) (one channel, ready for
    ``Conv2d``; ``.flatten(1)`` gives (N, 784) for an MLP), pixel values
    divided by 255 so they lie in [0, 1]. targets: int64 labels 0..9, shape (N,).

    Args:
        root: directory holding the IDX files (or to download them into).
        train: the 60,000 training samples when True, the 10,000 test samples
            when False.
        download: fetch the missing files of this split (the ``.gz`` forms,
            MD5-checked) into ``root``. Nothing is fetched otherwise.
    """
    if not isinstance(train, (bool, np.bool_)):
        raise TypeError(f"mnist: train must be True or False, got {train!r}")
    if not isinstance(download, (bool, np.bool_)):
        raise TypeError(f"mnist: download must be True or False, got {download!r}")
    root = Path(root).expanduser()
    images_name, labels_name = FILES[bool(train)]
    paths = []
    for name in (images_name, labels_name):
        path = _find(root, name)
        if path is None and download:
            path = _download(root, name + ".gz")
        if path is None:
            raise FileNotFoundError(
                f"mnist: {name} (or {name}.gz) not found in {root} or {root / 'MNIST' / 'raw'}; "
                f"pass download=True to fetch it, or download {name}.gz from {MIRRORS[0]} "
                f"into {root}")
        paths.append(path)

    images = read_idx(paths[0], magic=IMAGES_MAGIC)
    labels = read_idx(paths[1], magic=LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"mnist: {paths[0].name} holds {images.shape[0]} images but "
                         f"{paths[1].name} holds {labels.shape[0]} labels; one of the files is "
                         f"from another set or damaged")
    if labels.size and labels.max() > 9:
        raise ValueError(f"mnist: {paths[1].name} has label {labels.max()}; MNIST labels are "
                         f"0..9")
    inputs = (images[:, None, :, :] / np.float32(255)).astype(np.float32)
    return TensorDataset(cr.from_numpy(inputs), cr.from_numpy(labels.astype(np.int64)))


def _find(root, name):
    for folder in (root, root / "MNIST" / "raw"):
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                return candidate
    return None


def _download(root, filename):
    """Fetch ``filename`` from the first mirror that serves it with the right MD5.

    The file is written to a temporary name and renamed into place, so an
    interrupted download never leaves a partial file that looks complete.
    """
    failures = []
    for mirror in MIRRORS:
        url = mirror + filename
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                content = response.read()
        except (urllib.error.URLError, OSError) as e:
            failures.append(f"{url}: {getattr(e, 'reason', e)}")
            continue
        digest = hashlib.md5(content).hexdigest()
        if digest != MD5[filename]:
            failures.append(f"{url}: MD5 {digest} is not the expected {MD5[filename]}")
            continue
        root.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=root, prefix=filename, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(temporary, root / filename)
        return root / filename
    raise RuntimeError(f"mnist: could not download {filename} (are you offline?); tried "
                       + "; ".join(failures)
                       + f". Download it by hand into {root} and call again")
