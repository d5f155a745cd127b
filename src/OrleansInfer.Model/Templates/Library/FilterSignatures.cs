using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates.Library;

/// <summary>The parameters (after the value) each fixed-signature filter takes in Jinja2, to reject calls Python would.</summary>
internal static class FilterSignatures
{
    public static readonly Dictionary<string, string[]> Parameters = new(StringComparer.Ordinal)
    {
        ["trim"] = ["chars"],
        ["tojson"] = ["ensure_ascii", "indent", "separators", "sort_keys"],
        ["upper"] = [], ["lower"] = [], ["title"] = [], ["capitalize"] = [], ["string"] = [], ["safe"] = [],
        ["escape"] = [], ["e"] = [], ["forceescape"] = [], ["wordcount"] = [], ["striptags"] = [], ["pprint"] = [],
        ["list"] = [], ["first"] = [], ["last"] = [], ["length"] = [], ["count"] = [], ["items"] = [], ["abs"] = [], ["reverse"] = [],
        ["replace"] = ["old", "new", "count"],
        ["int"] = ["default", "base"],
        ["float"] = ["default"],
        ["round"] = ["precision", "method"],
        ["center"] = ["width"],
        ["truncate"] = ["length", "killwords", "end", "leeway"],
        ["indent"] = ["width", "first", "blank"],
        ["default"] = ["default_value", "boolean"], ["d"] = ["default_value", "boolean"],
        ["attr"] = ["name"],
        ["join"] = ["d", "attribute"],
        ["unique"] = ["case_sensitive", "attribute"],
        ["dictsort"] = ["case_sensitive", "by", "reverse"],
        ["batch"] = ["linecount", "fill_with"],
        ["slice"] = ["slices", "fill_with"],
        ["sort"] = ["reverse", "case_sensitive", "attribute"],
        ["sum"] = ["attribute", "start"],
        ["min"] = ["case_sensitive", "attribute"], ["max"] = ["case_sensitive", "attribute"],
    };

    public static void Check(string name, string[] parameters, Args args)
    {
        if (args.Count > parameters.Length)
            throw new PyError($"do_{name}() takes {parameters.Length + 1} positional argument{(parameters.Length == 0 ? "" : "s")} but {args.Count + 1} were given");
        if (args.Named is null) return;
        foreach (var pair in args.Named)
        {
            var index = Array.IndexOf(parameters, pair.Key);
            if (index < 0) throw new PyError($"do_{name}() got an unexpected keyword argument '{pair.Key}'");
            if (index < args.Count) throw new PyError($"do_{name}() got multiple values for argument '{pair.Key}'");
        }
    }
}
