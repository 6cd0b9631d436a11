"""Escaping user-supplied text (tensor names, variable names) for SVG, HTML
and DOT: a name like ``<script>`` is shown, never run.

Besides ``& < > " '``, characters that XML forbids outright (control
characters other than tab and newline) are replaced by ``?``: one of them
would make the whole SVG unreadable.
"""
import html
import json
import re

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def esc(text):
    """``text`` safe inside an XML/HTML element or a quoted attribute."""
    return html.escape(_INVALID_XML.sub("?", str(text)), quote=True)


def script_json(value):
    """JSON safe inside ``<script type="application/json">``: no ``<``, ``>``
    or ``&`` survives literally, so no user string can close the element."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
