"""The table that ``str(trace)`` prints: one block of rows per gate.

    step  gate         output  upstream  input  local  downstream  received
       1  MulBackward  t2      1.0       t1     -4.0   -4.0        t1 = -4.0
                                         z      3.0    3.0         z = 3.0

Each input row reads as the chain rule at the gate: upstream x local =
downstream. ``received`` is where that gradient went: ``x = 3.0`` the first
time a tensor receives one, ``x += 3.0 (total 6.0)`` when it is used more
than once (fan-out). A ``*`` after a local gradient marks a gate that is not
elementwise (see ``viz/local.py``): its downstream gradient is the gate's
vector-Jacobian product, not ``upstream * local``.
"""
from . import formatting

NO_GRAD = "(no grad)"
MAX_LABEL = 28


def format_trace(trace):
    root = trace.walk.tensors[trace.walk.root_key].label
    lines = [f"backward pass of {_clip(root)}, in the engine's order "
             f"(each input row: upstream x local = downstream)"]
    if trace.note:
        lines.append(trace.note)
    lines.append(f"seed: d {_clip(root)} / d {_clip(root)} = {formatting.array(trace.seed)}")
    rows = [("step", "gate", "output", "upstream", "input", "local", "downstream", "received")]
    starred = False
    for number, step in enumerate(trace, 1):
        for k in range(len(step.inputs)):
            local = step.local[k]
            local_text = NO_GRAD if local is None else formatting.array(local)
            if local is not None and not step.elementwise:
                local_text += "*"
                starred = True
            down = step.downstream[k]
            acc = step.accumulations[k]
            rows.append((
                str(number) if k == 0 else "",
                step.node if k == 0 else "",
                _clip(step.output) if k == 0 else "",
                _upstream_text(step.upstream) if k == 0 else "",
                _clip(step.inputs[k]),
                local_text,
                NO_GRAD if down is None else formatting.array(down),
                "" if acc is None else _received(acc)))
    lines.extend(_columns(rows))
    if starred:
        lines.append("* not elementwise: local is what the gate sends down for an all-ones "
                     "upstream; downstream is the gate's vector-Jacobian product")
    if trace.leaves:
        lines.append("gradients:")
        for label in trace.leaves:
            lines.append(f"  {label} = {formatting.array(trace.grads[label])}")
    return "\n".join(lines)


def _upstream_text(upstream):
    if isinstance(upstream, tuple):
        return "(" + ", ".join(NO_GRAD if u is None else formatting.array(u)
                               for u in upstream) + ")"
    return formatting.array(upstream)


def _received(acc):
    target = _clip(acc.target)
    if acc.before is None:
        return f"{target} = {formatting.array(acc.after)}"
    return f"{target} += {formatting.array(acc.added)} (total {formatting.array(acc.after)})"


def _clip(label):
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 3] + "..."


def _columns(rows):
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [r[0].rjust(widths[0])] + [cell.ljust(w) for cell, w in zip(r[1:], widths[1:])]
        out.append("  ".join(cells).rstrip())
    return out
