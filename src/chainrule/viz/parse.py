"""The safe reader of ``explain``'s expressions: Python's ``ast`` and a whitelist.

Allowed: numbers (int or float literals), variable names, the operators
``+ - * / **``, unary ``-`` and ``+``, parentheses, and calls of the functions
in ``FUNCTIONS`` with positional arguments. Everything else is rejected with
a ``ValueError`` that names the offending part: attribute access,
subscripts, lambdas, comprehensions, strings, keyword or starred arguments,
comparisons, ``and``/``or``, conditional expressions, ``:=``, any other
operator, names beginning with ``__``, calls of anything else, statements.

Nothing is ever evaluated by Python: ``ast.parse`` only builds the syntax
tree, which this module checks node by node and ``explain`` then walks,
calling chainrule operations itself. Inputs are capped in length and
nesting depth, so a hostile string cannot exhaust the parser either.
"""
import ast

MAX_LENGTH = 2000
MAX_DEPTH = 100

# name -> (number of arguments, what it computes)
FUNCTIONS = {
    "exp": (1, "e**x"), "log": (1, "natural logarithm"), "log1p": (1, "log(1 + x)"),
    "sqrt": (1, "square root"), "abs": (1, "|x|"), "sin": (1, "sine"), "cos": (1, "cosine"),
    "tanh": (1, "hyperbolic tangent"), "sigmoid": (1, "1 / (1 + exp(-x))"),
    "relu": (1, "max(x, 0)"), "max": (2, "elementwise maximum"),
    "min": (2, "elementwise minimum"), "sum": (1, "sum of a vector's entries"),
    "mean": (1, "mean of a vector's entries"),
}

_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_REJECTED_OPERATORS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
                       ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&",
                       ast.Not: "not", ast.Invert: "~"}
_DESCRIPTIONS = {
    "Attribute": "attribute access", "Subscript": "subscripts", "Slice": "slices",
    "Lambda": "lambda functions", "ListComp": "comprehensions", "SetComp": "comprehensions",
    "DictComp": "comprehensions", "GeneratorExp": "generator expressions",
    "Compare": "comparisons", "BoolOp": "'and'/'or'", "IfExp": "conditional expressions",
    "NamedExpr": "assignment expressions (:=)", "Starred": "starred arguments",
    "List": "list displays", "Tuple": "tuples", "Set": "set displays", "Dict": "dict displays",
    "JoinedStr": "f-strings", "FormattedValue": "f-strings", "Await": "await",
    "Yield": "yield", "YieldFrom": "yield", "keyword": "keyword arguments",
}
_STATEMENTS = {
    "Import": "import statements", "ImportFrom": "import statements",
    "Assign": "assignments", "AugAssign": "assignments", "AnnAssign": "assignments",
    "FunctionDef": "function definitions", "AsyncFunctionDef": "function definitions",
    "ClassDef": "class definitions", "Delete": "del statements", "Global": "global statements",
}
ALLOWED = ("allowed: numbers, variable names, + - * / **, unary -, parentheses and calls of "
           + ", ".join(FUNCTIONS))


class Expression:
    """A checked expression: ``tree`` (the ``ast`` body), ``text`` and
    ``variables`` (names in order of first appearance)."""

    def __init__(self, text, tree, variables):
        self.text, self.tree, self.variables = text, tree, variables

    def source(self, node):
        """The text of ``node`` as written (normalised when unavailable)."""
        return ast.get_source_segment(self.text, node) or ast.unparse(node)


def parse(text):
    """Check ``text`` against the whitelist; return an ``Expression`` or raise ``ValueError``."""
    if not isinstance(text, str):
        raise ValueError(f"explain: the expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ValueError(f"explain: the expression is {len(text)} characters long; at most "
                         f"{MAX_LENGTH} are accepted")
    if not text.strip():
        raise ValueError("explain: the expression is empty; write one such as '(x + y) * z'")
    text = text.strip()
    try:
        body = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise ValueError(_syntax_message(text, e)) from None
    variables = []
    stack = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"explain: the expression is nested more than {MAX_DEPTH} deep")
        for child in _check(node, text, variables):
            stack.append((child, depth + 1))
    variables = list(dict.fromkeys(variables))
    return Expression(text, body, variables)


def _check(node, text, variables):
    """Reject ``node`` unless whitelisted; return the children to check."""
    if isinstance(node, ast.Constant):
        value = node.value
        if type(value) in (int, float):
            return ()
        kind = {str: "strings", bytes: "bytes", bool: "True/False", complex: "complex numbers",
                type(None): "None", type(...): "'...'"}.get(type(value), "this constant")
        raise _reject(kind, node, text)
    if isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise _reject("names beginning with '__'", node, text)
        if node.id in FUNCTIONS:
            raise ValueError(f"explain: {node.id!r} is a function: call it, as in "
                             f"{node.id}({', '.join('xy'[:FUNCTIONS[node.id][0]])})")
        variables.append(node.id)
        return ()
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _OPERATORS:
            raise _operator(node.op, node, text)
        return (node.right, node.left)
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise _operator(node.op, node, text)
        return (node.operand,)
    if isinstance(node, ast.Call):
        return _check_call(node, text)
    raise _reject(_DESCRIPTIONS.get(type(node).__name__, f"'{type(node).__name__}'"),
                  node, text)


def _check_call(node, text):
    func = node.func
    if not isinstance(func, ast.Name):
        what = _DESCRIPTIONS.get(type(func).__name__, "calls of anything but a function name")
        raise _reject(what, func, text)
    if func.id not in FUNCTIONS:
        raise ValueError(f"explain: unknown function {func.id!r} in "
                         f"{_segment(node, text)!r}; {ALLOWED}")
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise _reject("starred arguments", arg, text)
    if node.keywords:
        kw = node.keywords[0]
        raise _reject("keyword arguments", kw, text)
    n = FUNCTIONS[func.id][0]
    if len(node.args) != n:
        raise ValueError(f"explain: {func.id} takes {n} argument(s) ({FUNCTIONS[func.id][1]}), "
                         f"got {len(node.args)} in {_segment(node, text)!r}")
    return tuple(reversed(node.args))


def _segment(node, text):
    seg = ast.get_source_segment(text, node) or ast.unparse(node)
    return seg if len(seg) <= 60 else seg[:57] + "..."


def _reject(what, node, text):
    return ValueError(f"explain: not allowed ({what}): {_segment(node, text)!r}; {ALLOWED}")


def _operator(op, node, text):
    return _reject(f"the operator {_REJECTED_OPERATORS.get(type(op), type(op).__name__)}",
                   node, text)


def _syntax_message(text, error):
    """Name what made ``text`` unreadable as an expression: a statement, or a syntax error."""
    try:
        module = ast.parse(text, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        if isinstance(error, RecursionError) or "too many nested" in str(error):
            return f"explain: the expression is nested more than {MAX_DEPTH} deep"
        detail = getattr(error, "msg", None) or str(error)
        where = getattr(error, "offset", None)
        at = f" at column {where}" if where else ""
        return f"explain: not a valid expression ({detail}{at}): {text[:60]!r}"
    for stmt in module.body:
        if not isinstance(stmt, ast.Expr):
            kind = _STATEMENTS.get(type(stmt).__name__, "statements")
            return (f"explain: not allowed ({kind}; write one expression): "
                    f"{_segment(stmt, text)!r}; {ALLOWED}")
    return (f"explain: write one expression, not several (separated by ';' or new lines): "
            f"{text[:60]!r}")
