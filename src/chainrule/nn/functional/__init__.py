"""``chainrule.nn.functional``: the function form of every layer, activation
and loss (``import chainrule.nn.functional as F``). Layers hold state and call
these; they can also be called directly with explicit weights."""
from ...functions import pad  # noqa: F401
from .activation import (  # noqa: F401
    gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax, softplus, tanh)
from .classification import cross_entropy, multi_margin_loss, nll_loss  # noqa: F401
from .conv import conv1d, conv2d  # noqa: F401
from .dropout import dropout  # noqa: F401
from .embedding import embedding  # noqa: F401
from .linear import linear  # noqa: F401
from .loss import (  # noqa: F401
    binary_cross_entropy, binary_cross_entropy_with_logits, huber_loss, l1_loss, mse_loss)
from .normalization import batch_norm, layer_norm  # noqa: F401
from .pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: F401
