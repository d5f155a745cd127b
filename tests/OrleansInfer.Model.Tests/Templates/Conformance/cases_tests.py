"""Tests (`is ...`): every one-argument-free test against every value kind, then the tests that take arguments."""
from common import case, many

# Value kinds as the C# engine sees them: each from the JSON context, plus undefined and a few template-made values.
VALUES = {
    "str": ("v", {"v": "Hello"}),
    "emptystr": ("v", {"v": ""}),
    "int": ("v", {"v": 3}),
    "zero": ("v", {"v": 0}),
    "float": ("v", {"v": 2.5}),
    "bool": ("v", {"v": True}),
    "none": ("v", {"v": None}),
    "list": ("v", {"v": [1, 2]}),
    "dict": ("v", {"v": {"a": 1}}),
    "undef": ("nothere", {}),
    "tuple": ("(1, 2)", {}),
    "macro": ("m", {}),
}
MACRO_DEF = "{% macro m() %}{% endmacro %}"

UNARY = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable",
         "sequence", "boolean", "true", "false", "callable", "lower", "upper", "odd", "even"]

MATRIX = []
for test in UNARY:
    for kind, (expr, ctx) in VALUES.items():
        prefix = MACRO_DEF if kind == "macro" else ""
        MATRIX.append(case(f"test-{test}-{kind}", f"{prefix}{{{{ {expr} is {test} }}}}", ctx))

ARGS = many("test", [
    ("not-defined", "{{ nothere is not defined }}"),
    ("not-none", "{{ v is not none }}", {"v": 1}),
    ("lower-mixed", "{{ 'aB' is lower }}"),
    ("upper-digits", "{{ 'A1' is upper }}"),
    ("lower-no-letters", "{{ '12' is lower }}"),
    ("equalto", "{{ 3 is equalto 3 }}"),
    ("equalto-parens", "{{ 3 is equalto(4) }}"),
    ("eq", "{{ 'a' is eq 'a' }}"),
    ("eq-symbol-select", "{{ [1, 2, 2] | select('==', 2) | list }}"),
    ("ne", "{{ 2 is ne 3 }}"),
    ("ne-symbol-select", "{{ [1, 2, 2] | select('!=', 2) | list }}"),
    ("lt", "{{ 2 is lt 3 }}"),
    ("lt-symbol-select", "{{ [1, 2, 3] | select('<', 2) | list }}"),
    ("gt", "{{ 2 is gt 3 }}"),
    ("gt-symbol-select", "{{ [1, 2, 3] | reject('>', 2) | list }}"),
    ("le", "{{ 3 is le 3 }}"),
    ("le-symbol-select", "{{ [1, 2, 3] | select('<=', 2) | list }}"),
    ("ge", "{{ 3 is ge 4 }}"),
    ("ge-symbol-select", "{{ [1, 2, 3] | select('>=', 2) | list }}"),
    # "is ==" is not valid syntax: the symbolic test names only work as strings (select/selectattr).
    ("symbol-after-is-syntax-error", "{{ 2 is == 2 }}"),
    ("equalto-selectattr", "{{ ms | selectattr('role', 'equalto', 'user') | map(attribute='c') | join }}",
     {"ms": [{"role": "user", "c": "a"}, {"role": "bot", "c": "b"}, {"role": "user", "c": "c"}]}),
    ("eq-symbol-selectattr", "{{ ms | selectattr('n', '==', 1) | list | length }}", {"ms": [{"n": 1}, {"n": 2}]}),
    ("greaterthan", "{{ 4 is greaterthan 3 }}"),
    ("lessthan", "{{ 4 is lessthan 3 }}"),
    ("sameas-none", "{{ v is sameas none }}", {"v": None}),
    ("sameas-true", "{{ v is sameas true }}", {"v": True}),
    ("sameas-one-true", "{{ v is sameas true }}", {"v": 1}),
    ("sameas-false", "{{ v is sameas false }}", {"v": False}),
    ("divisibleby", "{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(2) }}"),
    ("divisibleby-zero", "{{ 9 is divisibleby 0 }}"),
    ("in-list", "{{ 2 is in [1, 2] }}"),
    ("in-string", "{{ 'b' is in 'abc' }}"),
    ("in-dict", "{{ 'a' is in {'a': 1} }}"),
    ("not-in", "{{ 5 is not in [1, 2] }}"),
    ("odd-negative", "{{ -3 is odd }}"),
    ("odd-float-fraction", "{{ 2.5 is odd }}"),
    ("even-string-error", "{{ 'a' is even }}"),
    ("string-undefined-attr", "{{ d.x is string }}", {"d": {}}),
    ("defined-missing-key", "{{ d.x is defined }}", {"d": {}}),
    ("defined-null-key", "{{ d.x is defined }}", {"d": {"x": None}}),
    ("defined-nested-missing", "{{ d.x.y is defined }}", {"d": {}}),
    ("in-if", "{% if v is string %}S{% else %}N{% endif %}", {"v": "x"}),
    ("not-string", "{{ v is not string }}", {"v": 1}),
    ("test-in-select", "{{ [1, 2, 3, 4] | select('even') | list }}"),
    ("eq-int-float", "{{ 1 is eq 1.0 }}"),
    ("mapping-namespace", "{{ namespace() is mapping }}"),
    ("callable-filter-less-builtin", "{{ range is callable }}"),
    ("iterable-range", "{{ range(2) is iterable }}"),
    ("string-chained-and", "{{ v is string and v is lower }}", {"v": "ab"}),
])

CASES = MATRIX + ARGS
