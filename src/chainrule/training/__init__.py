"""The machinery of ``chainrule train``: tasks and models (each a registry that
later issues extend), the training loop, checkpoints, plots, and the 1986
symmetry experiment."""
from .models import MLP, MODELS, ModelError, ModelSpec, register_model  # noqa: F401
from .tasks import (  # noqa: F401
    BINARY, CLASSIFICATION, TASKS, DataError, Objective, Option, Task, TaskData, register_task)
from . import symmetry  # noqa: F401  (registers the symmetry experiment)
from . import recurrent  # noqa: F401  (registers adding, text and the rnn/lstm/gru models)
from . import cnn  # noqa: F401  (registers the cnn model)
