using OrleansInfer.Model.Templates.Ast;
using OrleansInfer.Model.Templates.Python;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Library;

/// <summary>Jinja2's built-in tests (x is defined, x is divisibleby 3, ...), with Python's notion of each type.</summary>
internal static class Tests
{
    private static readonly Dictionary<string, TestFn> Table = new(StringComparer.Ordinal)
    {
        ["defined"] = (_, v, _) => v is not Undefined,
        ["undefined"] = (_, v, _) => v is Undefined,
        ["none"] = (_, v, _) => v is null,
        ["string"] = (_, v, _) => v is string,
        ["number"] = (_, v, _) => v is long or double or bool,
        ["integer"] = (_, v, _) => v is long,
        ["float"] = (_, v, _) => v is double,
        ["boolean"] = (_, v, _) => v is bool,
        ["true"] = (_, v, _) => v is true,
        ["false"] = (_, v, _) => v is false,
        ["mapping"] = (_, v, _) => v is PyDict,
        ["sequence"] = (_, v, _) => v is string or PyList or PyTuple or PyDict,
        ["iterable"] = (_, v, _) => v is string or PyList or PyTuple or PyDict or Undefined,
        ["callable"] = (_, v, _) => v is PyCallable or Undefined,
        ["escaped"] = (_, _, _) => false,
        ["odd"] = (ctx, v, _) => Ops.PyEquals(Ops.Binary("%", v, 2L, ctx.MaxLength), 1L),
        ["even"] = (ctx, v, _) => Ops.PyEquals(Ops.Binary("%", v, 2L, ctx.MaxLength), 0L),
        ["divisibleby"] = (ctx, v, a) => Ops.PyEquals(Ops.Binary("%", v, a.Required(0, "num", "divisibleby"), ctx.MaxLength), 0L),
        ["lower"] = (_, v, _) => PyRepr.Str(v) is var s && s.Any(char.IsLetter) && !s.Any(char.IsUpper),
        ["upper"] = (_, v, _) => PyRepr.Str(v) is var s && s.Any(char.IsLetter) && !s.Any(char.IsLower),
        ["sameas"] = (_, v, a) => SameAs(v, a.Required(0, "other", "sameas")),
        ["in"] = (_, v, a) => Ops.Contains(a.Required(0, "seq", "in"), v),
        ["filter"] = (_, v, _) => v is string s && Filters.Find(s) is not null,
        ["test"] = (_, v, _) => v is string s && Find(s) is not null,
    };

    static Tests()
    {
        TestFn eq = (_, v, a) => Ops.PyEquals(v, a.Required(0, "other", "eq"));
        TestFn ne = (_, v, a) => !Ops.PyEquals(v, a.Required(0, "other", "ne"));
        TestFn lt = (_, v, a) => Ops.Compare(v, a.Required(0, "other", "lt"), "<") < 0;
        TestFn le = (_, v, a) => Ops.Compare(v, a.Required(0, "other", "le"), "<=") <= 0;
        TestFn gt = (_, v, a) => Ops.Compare(v, a.Required(0, "other", "gt"), ">") > 0;
        TestFn ge = (_, v, a) => Ops.Compare(v, a.Required(0, "other", "ge"), ">=") >= 0;
        foreach (var name in new[] { "eq", "equalto", "==" }) Table[name] = eq;
        foreach (var name in new[] { "ne", "!=" }) Table[name] = ne;
        foreach (var name in new[] { "lt", "lessthan", "<" }) Table[name] = lt;
        foreach (var name in new[] { "le", "<=" }) Table[name] = le;
        foreach (var name in new[] { "gt", "greaterthan", ">" }) Table[name] = gt;
        foreach (var name in new[] { "ge", ">=" }) Table[name] = ge;
    }

    public static TestFn? Find(string name) => Table.GetValueOrDefault(name);

    /// <summary>Python's "is": None, booleans and small values by value, containers by identity.</summary>
    private static bool SameAs(object? a, object? b) => a switch
    {
        null => b is null,
        bool x => b is bool y && x == y,
        long x => b is long y && x == y,
        string x => b is string y && (ReferenceEquals(x, y) || x.Length <= 1 && x == y),
        _ => ReferenceEquals(a, b),
    };
}
