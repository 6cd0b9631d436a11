"""Repeated structure drawn once: a chain of one gate becomes one node.

A gate B *continues* gate A's chain when B is the same operation, B's only
input that carries a gradient is A's output, and nothing else uses that
output. ``x = x * 1.0001`` repeated 10,000 times is then one ``mul x10000``
node between the first input and the last output. The constants and
gradient-free inputs that the inner gates also took are not drawn (the
first gate keeps all of its inputs). Chains shorter than ``MIN_RUN`` stay as
they are. This only runs on graphs too large to draw in full, so a small
graph is always drawn gate by gate.
"""
MIN_RUN = 3


def collapse_chains(graph):
    """Collapse every chain of at least ``MIN_RUN`` gates in ``graph``, in place."""
    tensors, gates = graph.tensors, graph.gates
    consumers = {}
    for gate in gates.values():
        for t in gate.inputs:
            consumers.setdefault(t, []).append(gate.id)

    def carried(gate):
        return [t for t in gate.inputs if tensors[t].kind in ("leaf", "result")]

    successor, has_predecessor = {}, set()
    for a in gates.values():
        if len(a.outputs) != 1 or a.outputs[0] == graph.root:
            continue
        users = consumers.get(a.outputs[0], [])
        if len(users) != 1:
            continue
        b = gates[users[0]]
        if b.op == a.op and b.name == a.name and carried(b) == [a.outputs[0]]:
            successor[a.id] = b.id
            has_predecessor.add(b.id)

    removed_gates, removed_tensors = set(), set()
    for start in list(gates):
        if start in has_predecessor or start not in successor:
            continue
        run = [start]
        while run[-1] in successor:
            run.append(successor[run[-1]])
        if len(run) < MIN_RUN:
            continue
        first, last = gates[run[0]], gates[run[-1]]
        for gid in run[1:]:
            inner = gates[gid]
            removed_gates.add(gid)
            for t in inner.inputs:
                others = [c for c in consumers[t] if c != gid]
                consumers[t] = others
                if not others:
                    removed_tensors.add(t)
        first.outputs = last.outputs
        first.count = len(run)
        graph.collapsed += len(run) - 1
    graph.gates = {gid: g for gid, g in gates.items() if gid not in removed_gates}
    graph.tensors = {tid: t for tid, t in tensors.items() if tid not in removed_tensors}
