using OrleansInfer.Model.Templates.Library;
using OrleansInfer.Model.Templates.Python;

namespace OrleansInfer.Model.Templates.Runtime;

/// <summary>
/// MarkupSafe's Markup, made by safe and escape. With autoescape off it prints as its text, but Python's Markup
/// escapes what is added to it ('x'|safe + '&lt;' gives x&amp;lt;), which transformers' renders show, so it is kept.
/// </summary>
internal sealed class Markup(string text)
{
    public string Text { get; } = text;

    /// <summary>The plain str Python would compare, hash or iterate.</summary>
    public static object? Unwrap(object? v) => v is Markup m ? m.Text : v;

    public static Markup Escape(object? v) => v as Markup ?? new Markup(Filters.Escape(PyRepr.Str(v)));

    /// <summary>Markup + str or str + Markup: the plain side is escaped.</summary>
    public static object? Add(object? a, object? b)
    {
        if (a is Markup or string && b is Markup or string) return new Markup(Escape(a).Text + Escape(b).Text);
        throw new PyError($"unsupported operand type(s) for +: '{PyRepr.TypeName(a)}' and '{PyRepr.TypeName(b)}'");
    }

    /// <summary>Methods and filters that return str give Markup on Markup (strip, upper, ...).</summary>
    public static object? Rewrap(object? result) => result is string s ? new Markup(s) : result;
}
