"""``Dropout``: inverted dropout while training, the identity in evaluation."""
from .. import functional as F
from ..functional.dropout import check_probability
from ..module import Module


class Dropout(Module):
    """Zero each element with probability ``p`` while training and scale the
    rest by 1/(1-p); in ``eval()`` mode, return the input unchanged. The mask
    is drawn from chainrule's global generator (``cr.manual_seed``)."""

    def __init__(self, p=0.5):
        super().__init__()
        check_probability("Dropout", p)
        self.p = p

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
