"""Where each node goes: a layered (Sugiyama) layout by python-igraph.

igraph's ``layout_sugiyama`` does the real work: given each node's layer
(``render_svg.columns``: longest path from the inputs, so all inputs share
the first layer as in the teaching figures), it orders the nodes within
each layer to reduce edge crossings, places them, and routes an edge that
skips layers through control points.
Here its coordinates are only turned sideways and scaled: layers become
columns from left (inputs) to right (output), as wide as their widest
node, and positions within a layer become rows of one common height.
"""
MARGIN = 20
COLUMN_GAP = 56      # between the widest nodes of two neighbouring columns
ROW_GAP = 14
PARALLEL = 5       # vertical offset between copies of one edge (x * x)


def import_igraph():
    try:
        import igraph
    except ImportError:
        raise ImportError("drawing a graph as SVG or HTML needs python-igraph for the layout: "
                          "pip install 'chainrule[all]' (or pip install python-igraph); "
                          "Graph.to_dot() needs nothing extra") from None
    return igraph


class Layout:
    """``centers[i] = (x, y)``, ``routes[e]`` the points of edge ``e`` from the
    source's right side to the target's left side, and the total size."""

    def __init__(self, centers, routes, width, height):
        self.centers, self.routes = centers, routes
        self.width, self.height = width, height


def layout(sizes, edges, layers=None):
    """Lay out nodes of ``sizes[i] = (width, height)`` joined by directed
    ``edges``; ``layers`` (one column number per node) replaces igraph's own
    layering when given."""
    n = len(sizes)
    if n == 0:
        return Layout([], [], 2 * MARGIN, 2 * MARGIN)
    igraph = import_igraph()
    # x * x joins x to its gate twice: lay the pair out as one edge (igraph
    # would route the second copy the long way round) and draw the copies
    # side by side
    unique = list(dict.fromkeys(edges))
    g = igraph.Graph(n=n, edges=unique, directed=True)
    coords = g.layout_sugiyama(layers=layers)
    layer_of = [int(round(y)) for _, y in coords.coords[:n]]
    n_layers = max(layer_of) + 1
    widths = [0.0] * n_layers
    for (w, _), layer in zip(sizes, layer_of):
        widths[layer] = max(widths[layer], w)
    left = []
    x = MARGIN
    for w in widths:
        left.append(x)
        x += w + COLUMN_GAP
    width = x - COLUMN_GAP + MARGIN
    row = max(h for _, h in sizes) + ROW_GAP

    def column_center(layer):
        layer = min(max(int(round(layer)), 0), n_layers - 1)
        return left[layer] + widths[layer] / 2

    top = min(pos for pos, _ in coords.coords)

    def row_center(pos):
        return MARGIN + row / 2 + (pos - top) * row

    centers = [(column_center(layer), row_center(pos))
               for (pos, _), layer in zip(coords.coords[:n], layer_of)]
    lowest = max(pos for pos, _ in coords.coords) if coords.coords else 0
    route_of = {}
    for (a, b), bends in zip(unique, coords.edge_routing):
        (ax, ay), (bx, by) = centers[a], centers[b]
        points = [(ax + sizes[a][0] / 2, ay)]
        points.extend((column_center(ly), row_center(px)) for px, ly in bends)
        points.append((bx - sizes[b][0] / 2, by))
        route_of[(a, b)] = points
    routes, copies = [], {}
    for edge in edges:
        k = copies[edge] = copies.get(edge, -1) + 1
        offset = PARALLEL * ((k + 1) // 2) * (1 if k % 2 else -1)
        routes.append([(x, y + offset) for x, y in route_of[edge]])
    height = row_center(lowest) + row / 2 + MARGIN
    return Layout(centers, routes, width, height)
