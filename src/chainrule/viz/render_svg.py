"""The graph as a standalone SVG document, drawn in the teaching figures' colours.

A tensor is a rounded box: its label (bold), shape and dtype (grey), forward
value (green) and gradient (red). A gate is an ellipse with the operation's
symbol. Edges run left to right from inputs to outputs. Text is monospace
so a label's width is known without measuring fonts. Every element that the
HTML page's script touches carries a ``data-id``; user text is escaped.
"""
from . import formatting
from .layout import layout
from .markup import esc

CHAR = 7.2           # width of one 12px monospace character
LINE = 15            # line height
PAD = 8
HEADER = 34          # room above the drawing for the title and the legend
VALUE_COLOR = "#1a7f37"
GRAD_COLOR = "#cf222e"
MAX_TEXT = 44        # characters shown of one line (the full text is in a tooltip)

STYLE = (f".cr-graph text{{font-family:monospace;font-size:12px}}"
         f".cr-graph .label{{font-weight:bold}}"
         f".cr-graph .meta{{fill:#6e7781}}"
         f".cr-graph .value{{fill:{VALUE_COLOR}}}"
         f".cr-graph .grad{{fill:{GRAD_COLOR}}}"
         f".cr-graph .tensor rect{{fill:#ffffff;stroke:#57606a}}"
         f".cr-graph .constant rect{{fill:#f6f8fa;stroke:#8c959f;stroke-dasharray:4 3}}"
         f".cr-graph .input rect{{fill:#f6f8fa}}"
         f".cr-graph .gate ellipse{{fill:#ddf4ff;stroke:#0969da}}"
         f".cr-graph .edge{{fill:none;stroke:#8c959f;stroke-width:1.3}}")


def _clip(text):
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "..."


def tensor_lines(t):
    """``[(css class, text), ...]`` drawn in a tensor's box."""
    if t.kind == "constant":
        return [("value", _clip(t.value_text))]
    meta = f"{'scalar' if t.value.ndim == 0 else formatting.shape(t.value)} {t.dtype}"
    lines = [("label", _clip(t.label)), ("meta", meta), ("value", _clip(t.value_text))]
    if t.kind != "input":
        lines.append(("grad", _clip(t.grad_text)))
    return lines


def tensor_size(t, steps_text=()):
    texts = [text for _, text in tensor_lines(t)] + list(steps_text)
    width = max(len(s) for s in texts) * CHAR + 2 * PAD
    return max(width, 48), len(tensor_lines(t)) * LINE + PAD


def gate_size(g):
    return max(len(g.symbol) * CHAR + 26, 38), 30


def place(graph, grad_texts=None):
    """Sizes, the layout and the drawing order of the graph's nodes.

    ``grad_texts`` (tensor id -> [texts]) widens boxes for every gradient
    text the HTML page may show in them while stepping."""
    grad_texts = grad_texts or {}
    nodes = list(graph.tensors.values()) + list(graph.gates.values())
    index = {n.id: i for i, n in enumerate(nodes)}
    sizes = [tensor_size(n, grad_texts.get(n.id, ())) if n.id in graph.tensors
             else gate_size(n) for n in nodes]
    edges = [(index[a], index[b]) for a, b in graph.edges]
    layers = columns(graph)
    return nodes, sizes, edges, layout(sizes, edges, [layers[n.id] for n in nodes])


def columns(graph):
    """Each node's column: inputs first, then each gate one column after its
    latest input and its outputs one after it (longest path from the inputs,
    as the teaching figures draw a circuit); a constant sits just before the
    gate that uses it, not with the inputs at the far left."""
    layer = {}
    for t in graph.tensors.values():
        if t.kind in ("leaf", "input"):
            layer[t.id] = 0
    for g in graph.gates.values():          # forward order: inputs are placed first
        fed = [layer[t] for t in g.inputs if graph.tensors[t].kind != "constant"]
        layer[g.id] = max(fed, default=0) + 1
        for t in g.outputs:
            layer[t] = layer[g.id] + 1
        for t in g.inputs:
            if graph.tensors[t].kind == "constant":
                layer[t] = layer[g.id] - 1
    return layer


def render_svg(graph, grad_texts=None, title=True):
    """The SVG document (a string); ``title=False`` leaves the title out (the
    HTML page shows it above)."""
    if graph.too_large is not None:
        return _summary_svg(graph)
    nodes, sizes, edges, lay = place(graph, grad_texts)
    width = max(lay.width, 420)
    height = lay.height + HEADER
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cr-graph" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">',
           f"<style>{STYLE}</style>",
           '<defs><marker id="cr-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
           'markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
           '<path d="M0,0 L10,5 L0,10 z" fill="#8c959f"/></marker></defs>']
    out.extend(_header(graph, title))
    out.append(f'<g transform="translate(0,{HEADER})">')
    out.append('<g class="edges">')
    for (a, b), points in zip(edges, lay.routes):
        out.append(f'<path class="edge" data-from="{nodes[a].id}" data-to="{nodes[b].id}" '
                   f'd="{_curve(points)}" marker-end="url(#cr-arrow)"/>')
    out.append("</g>")
    for node, (w, h), (cx, cy) in zip(nodes, sizes, lay.centers):
        if node.id in graph.tensors:
            out.extend(_tensor(node, w, h, cx, cy))
        else:
            out.extend(_gate(node, w, h, cx, cy))
    out.append("</g></svg>")
    return "\n".join(out)


def _header(graph, title):
    parts = []
    if graph.title and title:
        parts.append(f'<text x="20" y="14" class="label">{esc(_clip(graph.title))}</text>')
    legend = ('<text x="20" y="28"><tspan class="value">forward value (green)</tspan>'
              '<tspan class="meta">  </tspan><tspan class="grad">gradient (red)</tspan>')
    if graph.collapsed:
        legend += (f'<tspan class="meta">  {graph.collapsed} gate(s) inside repeated chains '
                   f'drawn once (marked xN)</tspan>')
    parts.append(legend + "</text>")
    return parts


def _tensor(t, w, h, cx, cy):
    x, y = cx - w / 2, cy - h / 2
    title = esc(f"{t.label}: {t.kind} {formatting.shape(t.value)} {t.dtype}")
    out = [f'<g class="node tensor {t.kind}" data-id="{t.id}" data-label="{esc(t.label)}">'
           f"<title>{title}</title>",
           f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6"/>']
    for k, (cls, text) in enumerate(tensor_lines(t)):
        ty = y + PAD / 2 + LINE * k + 11
        out.append(f'<text class="{cls}" x="{cx:.1f}" y="{ty:.1f}" '
                   f'text-anchor="middle">{esc(text)}</text>')
    out.append("</g>")
    return out


def _gate(g, w, h, cx, cy):
    title = esc(g.name if g.count == 1 else f"{g.name} x{g.count} (a collapsed chain)")
    return [f'<g class="node gate" data-id="{g.id}"><title>{title}</title>',
            f'<ellipse cx="{cx:.1f}" cy="{cy:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}"/>',
            f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle">{esc(g.symbol)}</text>',
            "</g>"]


def _curve(points):
    """A smooth path through ``points``: cubic pieces leaving and entering
    horizontally, as edges between columns read best."""
    (x0, y0) = points[0]
    d = [f"M{x0:.1f},{y0:.1f}"]
    for (x1, y1) in points[1:]:
        mid = (x0 + x1) / 2
        d.append(f"C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(d)


def summary_lines(graph):
    """What a graph too large to draw says instead."""
    gates, tensors, counts = graph.too_large
    top = sorted(counts.items(), key=lambda kv: -kv[1])
    lines = [f"This graph has {gates} gates and {tensors} tensors: too many to draw readably "
             f"(the limit is max_nodes={graph.max_nodes}, after drawing repeated chains once).",
             "Gates: " + ", ".join(f"{name} {n}" for name, n in top[:8])
             + (", ..." if len(top) > 8 else ""),
             "To narrow it: draw an intermediate result, cr.viz.graph(h) for a tensor h "
             "computed earlier; use a smaller model, batch or sequence;",
             "or raise cr.viz.graph(t, max_nodes=...) (layout time grows quickly with size)."]
    return lines


def _summary_svg(graph):
    lines = summary_lines(graph)
    width = max(len(s) for s in lines) * CHAR + 40
    height = LINE * len(lines) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cr-graph" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">',
           f"<style>{STYLE}</style>"]
    for k, line in enumerate(lines):
        out.append(f'<text x="20" y="{24 + k * LINE}">{esc(line)}</text>')
    out.append("</svg>")
    return "\n".join(out)
