"""The digits MLP: one small training step, with Adam and with plain SGD.

MLP 64-128-128-10 with ReLU, batch 64, float32, softmax cross-entropy (mean),
forward + backward + one optimiser step: Adam with PyTorch's defaults (lr
1e-3, betas (0.9, 0.999), eps 1e-8) in "digits-mlp-adam", SGD (lr 0.01) in
"digits-mlp-sgd". This is the size of the 8x8 digits task: products of a few
hundred thousand flops, so per-op overhead and the optimiser's elementwise
work matter as much as BLAS.

The inputs are random (U(0, 1), the range of the scaled digits; random
labels): the timing depends on the shapes only, and every implementation
sees the same batch. The implementations are those of ``mlp_step``.
"""
from functools import partial

from .harness import Workload
from .mlp_step import chainrule_step, numpy_step, pytorch_step

SIZES = (64, 128, 128, 10)
BATCH = 64
ADAM_LR = 1e-3
SGD_LR = 0.01


def _workload(optimizer, lr):
    config = dict(sizes=SIZES, batch=BATCH, optimizer=optimizer, lr=lr)
    name = {"adam": "Adam (PyTorch's defaults, lr 1e-3)", "sgd": f"SGD (lr {lr})"}[optimizer]
    return Workload(
        name=f"digits-mlp-{optimizer}",
        description=f"MLP 64-128-128-10, ReLU, batch 64, float32, cross-entropy, "
                    f"forward + backward + {name}; random inputs of the digits' shape",
        implementations={"chainrule": partial(chainrule_step, **config),
                         "pytorch": partial(pytorch_step, **config),
                         "numpy": partial(numpy_step, **config)},
    )


WORKLOAD_ADAM = _workload("adam", ADAM_LR)
WORKLOAD_SGD = _workload("sgd", SGD_LR)
