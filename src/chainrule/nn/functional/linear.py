"""``linear``: the affine map of a fully connected layer."""
from ... import ops

__all__ = ["linear"]


def linear(input, weight, bias=None):
    """y = x W^T + b, for x of shape (..., in_features), W (out_features,
    in_features) and b (out_features,). The gradient comes from matmul's."""
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got "
                         f"shape {tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(f"linear: input of shape {tuple(input.shape)} does not end in "
                         f"in_features={weight.shape[1]} (weight shape "
                         f"{tuple(weight.shape)}); the last dimension of the input must "
                         f"be the number of input features")
    if input.dtype != weight.dtype:
        raise TypeError(f"linear: input dtype {input.dtype} does not match weight dtype "
                        f"{weight.dtype}; convert the input (x.to({weight.dtype})) or the "
                        f"module (module.to({input.dtype}))")
    out = ops.matmul(input, ops.permute(weight, dims=(1, 0)))
    if bias is not None:
        out = out + bias
    return out
