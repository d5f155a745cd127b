"""Whitespace control: -/+ modifiers on every tag kind, trim_blocks and lstrip_blocks, tabs, CRLF, trailing newlines.

trim_blocks removes the first newline after a block tag; lstrip_blocks strips spaces and tabs before a block tag
at the start of a line; a '+' on either side disables them; '-' strips all whitespace (newlines included).
"""
from common import case, many

# Every left/right modifier pair on each tag kind, between text with spaces and newlines on both sides.
_TAGS = {
    "stmt": ("{%", " if true %}", "{%", " endif %}"),
    "expr": ("{{", " 'X' }}", None, None),
    "comment": ("{#", " c #}", None, None),
}
_MODS = {"plain": "", "minus": "-", "plus": "+"}

COMBOS = []
for kind, (open_, rest, open2, rest2) in _TAGS.items():
    for lname, lmod in _MODS.items():
        for rname, rmod in _MODS.items():
            if kind != "stmt" and (lmod == "+" or rmod == "+"):
                continue  # '+' is only meaningful on block tags (and on expr/comment it is a syntax quirk)
            close = rest[:-2] + rmod + rest[-2:]
            tag = open_ + lmod + close
            if kind == "stmt":
                body = f"a  \n  {tag}\n  b  \n  {open2}{lmod}{rest2[:-2]}{rmod}{rest2[-2:]}\n  c"
            else:
                body = f"a  \n  {tag}  \n  c"
            COMBOS.append(case(f"ws-{kind}-{lname}-{rname}", body))

# '+' after '{{' is just unary plus; after '{#' it is comment text with lstrip disabled: worth pinning down.
PLUS_ODD = many("ws-plus-odd", [
    ("expr-left", "a  {{+ 1 }}  b"),
    ("comment-left", "a  \n  {#+ c #}\nb"),
])

WS = many("ws", [
    ("trim-blocks-newline", "{% if true %}\nyes\n{% endif %}\nafter"),
    ("trim-blocks-only-one-newline", "{% if true %}\n\nyes{% endif %}"),
    ("trim-blocks-not-after-expr", "{{ 'x' }}\ny"),
    ("trim-blocks-after-comment", "a{# c #}\nb"),
    ("lstrip-indented-block", "<ul>\n    {% for x in xs %}\n    <li>{{ x }}</li>\n    {% endfor %}\n</ul>", {"xs": [1, 2]}),
    ("lstrip-not-expr", "    {{ 'x' }}\n"),
    ("lstrip-comment", "    {# c #}\nx"),
    ("lstrip-tabs", "\t\t{% if true %}\n\tx\n\t{% endif %}\n"),
    ("lstrip-mixed-tabs-spaces", " \t {% set a = 1 %}\n{{ a }}"),
    ("lstrip-not-after-text", "text   {% if true %}x{% endif %}"),
    ("lstrip-plus-keeps", "    {%+ if true %}x{% endif %}"),
    ("trim-plus-right-keeps", "{% if true +%}\nx{% endif +%}\ny"),
    ("minus-both-sides-multiline", "a\n\n   {%- if true -%}\n\n   b   \n\n{%- endif -%}\n\n  c"),
    ("expr-minus-left", "a \n {{- 'X' }} \n b"),
    ("expr-minus-right", "a \n {{ 'X' -}} \n b"),
    ("expr-minus-both", "a \n {{- 'X' -}} \n b"),
    ("comment-minus-both", "a \n {#- c -#} \n b"),
    ("for-loop-lines", "{% for x in xs %}\n{{ x }}\n{% endfor %}\n", {"xs": ["a", "b"]}),
    ("for-loop-minus", "{%- for x in xs -%}\n  {{ x }}\n{%- endfor -%}\n", {"xs": ["a", "b"]}),
    ("crlf-trim-blocks", "{% if true %}\r\nyes\r\n{% endif %}\r\nafter"),
    ("crlf-text-normalized", "a\r\nb\r\n{{ 'c' }}\r\nd"),
    ("cr-only", "a\rb{% if true %}\rc{% endif %}"),
    ("crlf-lstrip", "  {% if true %}\r\n  x\r\n  {% endif %}\r\n"),
    ("crlf-in-string-literal-kept", "{{ 'a\r\nb' | length }}"),
    ("trailing-newline-dropped", "hello\n"),
    ("trailing-two-newlines-one-dropped", "hello\n\n"),
    ("trailing-crlf-dropped", "hello\r\n"),
    ("trailing-newline-after-expr", "{{ 'x' }}\n"),
    ("trailing-newline-after-block", "x{% if true %}y{% endif %}\n"),
    ("trailing-newline-output-of-expr-kept", "{{ 'x\n' }}"),
    ("only-newline", "\n"),
    ("empty-template", ""),
    ("block-at-eof-no-newline", "a\n{% if true %}b{% endif %}"),
    ("set-at-eof", "a\n{% set x = 1 %}"),
    ("set-line-removed", "a\n{% set x = 1 %}\nb"),
    ("indented-set-line-removed", "a\n    {% set x = 1 %}\nb"),
    ("minus-eats-all-newlines-before", "a\n\n\n{%- set x = 1 %}b"),
    ("minus-right-eats-following", "{% set x = 1 -%}\n\n\n   b"),
    ("macro-body-whitespace", "{% macro f() %}\n    body\n{% endmacro %}\n[{{ f() }}]"),
    ("raw-lstrip", "  {% raw %}\n  {{ x }}\n  {% endraw %}\n"),
    ("text-spaces-preserved", "  a  \n\n  b  "),
    ("expr-then-block-same-line", "{{ 1 }} {% if true %}{{ 2 }}{% endif %} {{ 3 }}"),
    ("chat-like", "{% for m in ms %}\n    {% if m.role == 'user' %}\n        U: {{ m.content }}\n    {% else %}\n        A: {{ m.content }}\n    {% endif %}\n{% endfor %}",
     {"ms": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}),
    ("chat-like-minus", "{%- for m in ms -%}\n    {{- '<|' + m.role + '|>\\n' + m.content + '\\n' -}}\n{%- endfor -%}",
     {"ms": [{"role": "user", "content": "hi"}]}),
    ("lstrip-inside-minus", "x\n  {%- if true %}\n  y\n  {%- endif %}\nz"),
    ("raw-minus-both", "a  {%- raw -%}  {{ x }}  {%- endraw -%}  b"),
    ("call-block-lines", "{% macro w() %}\n<{{ caller() }}>\n{% endmacro %}\n{% call w() %}\n  body\n{% endcall %}\n"),
    ("filter-block-lines", "{% filter upper %}\n  abc\n{% endfilter %}\n"),
    ("set-block-minus", "{%- set x -%}\n  v  \n{%- endset -%}\n[{{ x }}]"),
    ("elif-else-lines", "{% if false %}\na\n{% elif true %}\nb\n{% else %}\nc\n{% endif %}\n"),
    ("lstrip-comment-then-text", "  {# c #}x"),
    ("trim-blocks-crlf-comment", "{# c #}\r\nx"),
    ("expr-newline-inside-tag", "{{\n  'a'\n}}\nb"),
    ("block-newline-inside-tag", "{%\n if true\n%}\nx{% endif %}"),
    ("unicode-whitespace-not-stripped", "a\u00a0{%- if true %}b{% endif %}"),
])

CASES = COMBOS + PLUS_ODD + WS
