"""The op namespace: every gate as a callable that works on arrays (plain
NumPy, used by formulas in an ordinary backward) and on Tensors (recorded).
``REGISTRY`` maps each op's name to it; the tests and ``chainrule gradcheck``
walk it."""
from .registry import REGISTRY, Domain, Op, register  # noqa: F401
from .elementwise import *  # noqa: F401,F403
from .binary import *  # noqa: F401,F403
from .compare import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .inplace import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
