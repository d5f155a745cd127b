"""Small helpers the case modules share to keep each case one line."""


def case(name, template, context=None, sandbox=None):
    c = {"name": name, "template": template, "context": context or {}}
    if sandbox:
        c["sandbox"] = sandbox
    return c


def many(prefix, rows, context=None):
    """rows: (suffix, template[, context]) tuples; each becomes the case prefix-suffix."""
    out = []
    for row in rows:
        suffix, template = row[0], row[1]
        ctx = row[2] if len(row) > 2 else context
        out.append(case(f"{prefix}-{suffix}", template, ctx))
    return out
