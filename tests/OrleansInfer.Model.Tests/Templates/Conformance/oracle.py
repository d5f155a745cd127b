"""The oracle: Python Jinja2 configured exactly as Hugging Face transformers configures it for chat templates.

Every expected value in cases.json comes from running the case through these environments; nothing is
hand-written, so a disagreement with the C# engine is either an engine bug or a case built on a misunderstanding.
"""
import datetime
import json

import jinja2
from jinja2.ext import do, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment

# The fixed clock strftime_now reads; the C# test gives the engine a TimeProvider at the same instant (UTC, offset 0).
CLOCK = datetime.datetime(2024, 7, 26, 14, 5, 9)


class RaisedError(jinja2.exceptions.TemplateError):
    """raise_exception's error: a subclass so the oracle can tell it from Jinja2's own TemplateErrors."""


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers' replacement for Jinja2's tojson, which would HTML-escape and sort keys.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise RaisedError(message)


def _make(cls, *extra):
    env = cls(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols, *extra])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: CLOCK.strftime(fmt)
    return env


# transformers uses the immutable sandbox; the C# engine also supports list.append / do, whose expected values
# come from the mutable sandbox (same settings plus the 'do' statement), and such cases say "sandbox": "mutable".
ENVS = {"immutable": _make(ImmutableSandboxedEnvironment), "mutable": _make(SandboxedEnvironment, do)}


def evaluate(template, context, sandbox="immutable"):
    """Returns {"output": str} or {"error": {"kind", "message", ["line"]}} as Jinja2 gives it."""
    # Round-trip the context through JSON so Python sees exactly the values the C# test will parse.
    ctx = json.loads(json.dumps(context))
    env = ENVS[sandbox]
    try:
        tmpl = env.from_string(template)
    except jinja2.TemplateSyntaxError as e:  # includes TemplateAssertionError (unknown filter / test)
        err = {"kind": "syntax", "message": str(e.message)}
        if e.lineno is not None:
            err["line"] = e.lineno
        return {"error": err}
    except Exception as e:
        # e.g. {% break %} outside a loop: loopcontrols does not check, and Python's compile() rejects the code
        # Jinja2 generated. Still a template that cannot be parsed, without a Jinja2 line number.
        return {"error": {"kind": "syntax", "message": f"{type(e).__name__}: {e}"}}
    try:
        return {"output": tmpl.render(**ctx)}
    except RaisedError as e:
        return {"error": {"kind": "raised", "message": str(e.message)}}  # raise_exception(42) -> "42"
    except jinja2.UndefinedError as e:
        return {"error": {"kind": "undefined", "message": str(e)}}
    except jinja2.TemplateSyntaxError as e:
        # a syntax error found while rendering (e.g. an unknown filter inside a filter block is compile time,
        # but keep the kind honest if Jinja2 ever raises one late)
        return {"error": {"kind": "syntax", "message": str(e.message), **({"line": e.lineno} if e.lineno else {})}}
    except Exception as e:  # TypeError, ValueError, ZeroDivisionError, SecurityError, ...
        return {"error": {"kind": "runtime", "message": f"{type(e).__name__}: {e}"}}
