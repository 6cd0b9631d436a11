"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm``."""
from ... import dtypes
from ...autograd.grad_mode import no_grad
from ...creation import ones, tensor, zeros
from .. import functional as F
from .. import init
from ..functional.normalization import normalized_shape_tuple
from ..module import Module
from ..parameter import Parameter


class _BatchNorm(Module):
    """Per-channel normalisation over the batch (see ``F.batch_norm``).

    Buffers (with ``track_running_stats=True``): ``running_mean`` (starts at
    0), ``running_var`` (starts at 1) and ``num_batches_tracked`` (int64).
    ``bias=False`` (keyword only) keeps the scale but drops the shift.
    ``momentum`` weighs the newest batch in the running averages; ``None``
    makes them cumulative averages over all batches seen (weight 1/k for the
    k-th). In ``eval()`` mode the running statistics are used; without them
    (``track_running_stats=False``) batch statistics are used in both modes.
    """

    expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype))
            if bias:
                self.bias = Parameter(zeros(num_features, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim not in self.expected_dims:
            shapes = " or ".join(self.expected_shapes)
            raise ValueError(f"{type(self).__name__}: expected an input of shape {shapes}, "
                             f"got shape {tuple(input.shape)}")
        use_batch_stats = self.training or self.running_mean is None
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.item())
        # as PyTorch: while training, running statistics are updated only when
        # tracked; in evaluation they are used whenever they exist
        pass_running = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if pass_running else None,
                            self.running_var if pass_running else None, self.weight, self.bias,
                            use_batch_stats, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C."""
    expected_dims = (2, 3)
    expected_shapes = ("(N, C)", "(N, C, L)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C."""
    expected_dims = (4,)
    expected_shapes = ("(N, C, H, W)",)


class LayerNorm(Module):
    """Normalise each sample over its last dimensions (``normalized_shape``),
    then scale by ``weight`` (ones) and shift by ``bias`` (zeros), both of
    shape ``normalized_shape``, when ``elementwise_affine``."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=None):
        super().__init__()
        self.normalized_shape = normalized_shape_tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = dtypes.get_default_dtype() if dtype is None else dtype
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(zeros(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
