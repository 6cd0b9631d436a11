"""The graph in Graphviz's DOT language (``dot -Tsvg graph.dot``), for those
who have Graphviz; nothing here needs it. Labels are HTML-like so that values
can be green and gradients red; user text is escaped."""
from .markup import esc
from .render_svg import GRAD_COLOR, VALUE_COLOR, summary_lines, tensor_lines


def render_dot(graph):
    out = ["digraph chainrule {", "  rankdir=LR;",
           '  node [fontname="monospace", fontsize=11];']
    if graph.title:
        out.append(f"  label=<{esc(graph.title)}>; labelloc=t;")
    if graph.too_large is not None:
        text = "<br/>".join(esc(s) for s in summary_lines(graph))
        out.append(f"  summary [shape=note, label=<{text}>];")
        out.append("}")
        return "\n".join(out)
    for t in graph.tensors.values():
        rows = []
        for cls, text in tensor_lines(t):
            if cls == "label":
                rows.append(f"<b>{esc(text)}</b>")
            elif cls == "meta":
                rows.append(f'<font color="#6e7781">{esc(text)}</font>')
            elif text:
                color = VALUE_COLOR if cls == "value" else GRAD_COLOR
                rows.append(f'<font color="{color}">{esc(text)}</font>')
        style = "rounded,dashed" if t.kind == "constant" else "rounded"
        out.append(f'  {t.id} [shape=box, style="{style}", label=<{"<br/>".join(rows)}>];')
    for g in graph.gates.values():
        out.append(f'  {g.id} [shape=ellipse, style=filled, fillcolor="#ddf4ff", '
                   f'tooltip="{esc(g.name)}", label=<{esc(g.symbol)}>];')
    for a, b in graph.edges:
        out.append(f"  {a} -> {b};")
    out.append("}")
    return "\n".join(out)
