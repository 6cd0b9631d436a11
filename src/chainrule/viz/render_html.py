"""The graph as one self-contained HTML page that steps through the backward pass.

Everything is inline (the SVG, ``assets/page.css``, ``assets/stepper.js`` and
the steps as JSON), so the page opens from a file with no network access.
The steps are precomputed here, as text: for every gate of the replayed
backward pass, its upstream gradient, each input's local and downstream
gradient and the running total it received; the script only shows them.
Next/Previous (or the arrow keys) move one gate at a time, highlight it and
fill in the gradients (red) as they arrive, until every one is filled in.

User text reaches the page only through ``markup.esc`` (in the SVG and the
table) and ``markup.script_json`` (in the JSON), and the script writes it
with ``textContent``, so a tensor named ``<script>`` is shown, not run.
"""
from importlib import resources

from . import formatting
from .markup import esc, script_json
from .render_svg import render_svg, summary_lines


def _asset(name):
    return (resources.files("chainrule.viz") / "assets" / name).read_text(encoding="utf-8")


def step_data(graph):
    """The steps as the page's script reads them (all numbers already text)."""
    trace = graph.steps
    id_of = {t.key: t.id for t in graph.tensors.values()}
    root = graph.tensors[graph.root]
    initial = {graph.root: formatting.array(trace.seed)}
    steps = []
    for s in trace:
        gate = graph.gates[f"g{s.index}"]
        rows, changed = [], {}
        for k, label in enumerate(s.inputs):
            down, acc = s.downstream[k], s.accumulations[k]
            rows.append({
                "id": id_of.get(s.input_keys[k]),
                "label": label,
                "local": None if s.local[k] is None else formatting.array(s.local[k]),
                "downstream": None if down is None else formatting.array(down),
                "received": None if acc is None else _received(acc)})
            if acc is not None and acc.key in id_of:
                changed[id_of[acc.key]] = formatting.array(acc.after)
        steps.append({"gate": gate.id, "name": s.node, "symbol": gate.symbol,
                      "output": s.output, "outputs": gate.outputs,
                      "upstream": _upstream(s.upstream), "elementwise": s.elementwise,
                      "rows": rows, "set": changed})
    intro = (f"The forward pass has filled in every value (green). The backward pass starts at "
             f"{root.label} with gradient {initial[graph.root]} (red) and visits "
             f"{len(steps)} gate(s) in the engine's order. Press Next or the right arrow key.")
    if trace.note:
        intro = trace.note + " " + intro
    return {"initial": initial, "steps": steps, "intro": intro}


def _upstream(u):
    if isinstance(u, tuple):
        return "(" + ", ".join("none" if x is None else formatting.array(x) for x in u) + ")"
    return formatting.array(u)


def _received(acc):
    if acc.before is None:
        return f"{acc.target} = {formatting.array(acc.after)}"
    return f"{acc.target} += {formatting.array(acc.added)} (total {formatting.array(acc.after)})"


def _grad_texts(data):
    """Every gradient text a tensor box may show while stepping (for its width)."""
    texts = {}
    for step in [{"set": data["initial"]}] + data["steps"]:
        for tid, text in step["set"].items():
            texts.setdefault(tid, []).append(text)
    return texts


def render_html(graph):
    title = graph.title or "chainrule: computational graph"
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{esc(title)}</title>", f"<style>{_asset('page.css')}</style>",
             "</head><body>", f"<h1>{esc(title)}</h1>"]
    if graph.can_step:
        data = step_data(graph)
        parts += ['<div class="cr-controls">',
                  '<button id="cr-prev" type="button">Previous</button>',
                  '<button id="cr-next" type="button">Next</button>',
                  '<span id="cr-counter"></span></div>',
                  '<div id="cr-panel" aria-live="polite"></div>',
                  f'<div class="cr-drawing">{render_svg(graph, _grad_texts(data), title=False)}</div>',
                  "<details><summary>The backward pass as a table</summary>",
                  f"<pre>{esc(str(graph.steps))}</pre></details>",
                  f'<script type="application/json" id="cr-data">{script_json(data)}</script>',
                  f"<script>{_asset('stepper.js')}</script>"]
    else:
        parts += [f'<p id="cr-panel">{esc(_why_no_steps(graph))}</p>',
                  f'<div class="cr-drawing">{render_svg(graph, title=False)}</div>']
    parts.append("</body></html>")
    return "\n".join(parts)


def _why_no_steps(graph):
    if graph.too_large is not None:
        return " ".join(summary_lines(graph))
    if graph.collapsed:
        return ("Repeated chains are drawn once, so the backward pass is not stepped through "
                "gate by gate here; the gradients shown are the final ones.")
    return ("The gradients shown are those stored in .grad. To step through the backward pass, "
            "draw the graph before backward() (or after backward(retain_graph=True)) from a "
            "scalar: cr.viz.graph(loss).")


def render_fragment(graph):
    """The drawing alone (no script), for a notebook cell."""
    return f'<div class="cr-drawing">{render_svg(graph)}</div>'
