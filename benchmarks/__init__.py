"""The benchmark suite: chainrule side by side with PyTorch and hand-written NumPy.

``harness`` measures; each other module defines one workload (two for
``digits_mlp``) with its reference implementations. ``all_workloads()``
imports them on demand, so that ``python -m benchmarks.harness`` does not
load the harness twice.
"""


def all_workloads():
    """Every workload of the suite, in the order the table shows them."""
    from . import cnn_reference, digits_mlp, lstm_step, mlp_step, op_chain

    return [op_chain.WORKLOAD, mlp_step.WORKLOAD, digits_mlp.WORKLOAD_ADAM,
            digits_mlp.WORKLOAD_SGD, lstm_step.WORKLOAD, cnn_reference.WORKLOAD]
