"""``Embedding``: a trainable lookup table of vectors."""
from ... import dtypes
from ...autograd.grad_mode import no_grad
from ...creation import empty
from .. import functional as F
from .. import init
from ..functional.embedding import normalize_padding_idx
from ..module import Module
from ..parameter import Parameter


class Embedding(Module):
    """Row ``i`` of ``weight`` (num_embeddings, embedding_dim) for index ``i``.

    Initialised from N(0, 1), as PyTorch. With ``padding_idx``, that row
    starts at zero and never receives a gradient (a padding token keeps its
    vector). Repeated indices in a batch accumulate their gradients.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = normalize_padding_idx("Embedding", padding_idx, num_embeddings)
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text
