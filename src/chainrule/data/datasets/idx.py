"""Reading IDX files, the format of MNIST and its relatives.

An IDX file is a header and one big-endian array. The header is a 4-byte
magic number ``00 00 TT DD`` (``TT`` the element type, ``DD`` the number of
dimensions), then ``DD`` big-endian uint32 sizes. MNIST images are
``00 00 08 03`` (2051: uint8, 3-D) and labels ``00 00 08 01`` (2049: uint8,
1-D). A file whose name ends in ``.gz`` is read through gzip.
"""
import gzip
from pathlib import Path

import numpy as np

# element type byte -> big-endian NumPy dtype
IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path, magic=None):
    """The array stored in the IDX file ``path`` (raw, or gzip when named ``*.gz``).

    Raises ``ValueError`` naming the file when the magic number is not an IDX
    one (or not ``magic``, when given) or the data is shorter or longer than
    the header's shape says.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        content = f.read()
    if len(content) < 4:
        raise ValueError(f"read_idx: {path} is {len(content)} bytes long, too short for an "
                         f"IDX header")
    zero, type_code, ndim = content[0:2], content[2], content[3]
    if zero != b"\x00\x00" or type_code not in IDX_TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (magic number "
                         f"0x{content[:4].hex()}; expected 0x0000TTDD with type TT one of "
                         f"{', '.join(f'{t:02x}' for t in IDX_TYPES)})")
    found_magic = int.from_bytes(content[:4], "big")
    if magic is not None and found_magic != magic:
        raise ValueError(f"read_idx: {path} has magic number {found_magic} "
                         f"(type 0x{type_code:02x}, {ndim}-D), expected {magic} "
                         f"(type 0x{magic >> 8:02x}, {magic & 0xFF}-D); is it the right file?")
    header_size = 4 + 4 * ndim
    if len(content) < header_size:
        raise ValueError(f"read_idx: {path} ends inside its header ({len(content)} bytes, "
                         f"the header of a {ndim}-D array takes {header_size})")
    shape = tuple(int(d) for d in np.frombuffer(content, ">u4", count=ndim, offset=4))
    dtype = IDX_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(content) - header_size
    if found != expected:
        raise ValueError(f"read_idx: {path} holds {found} bytes of data but its header "
                         f"promises shape {shape} of {dtype.name} ({expected} bytes); "
                         f"the file is truncated or corrupt, download it again")
    array = np.frombuffer(content, dtype, offset=header_size).reshape(shape)
    # native byte order, and writable (frombuffer views the immutable bytes)
    return array.astype(dtype.newbyteorder("="))

