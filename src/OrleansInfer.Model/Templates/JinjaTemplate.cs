using System.Text.Json.Nodes;

namespace OrleansInfer.Model.Templates;

/// <summary>
/// A parsed Jinja template, rendered as Python's Jinja2 renders it with transformers' chat-template settings
/// (trim_blocks, lstrip_blocks, loopcontrols, tojson keeping non-ASCII, raise_exception, strftime_now).
/// Immutable after parsing and safe to render from several threads at once.
/// </summary>
public sealed class JinjaTemplate
{
    private JinjaTemplate(string source, TemplateOptions options)
    {
        Source = source;
        Options = options;
    }

    public string Source { get; }

    public TemplateOptions Options { get; }

    /// <summary>Parses <paramref name="source"/>; a syntax error, an unknown filter or test is a <see cref="TemplateSyntaxException"/>.</summary>
    public static JinjaTemplate Parse(string source, TemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        throw new NotImplementedException();
    }

    /// <summary>
    /// Renders with <paramref name="variables"/> as the whole variable set (JSON null is Python's None).
    /// Errors are <see cref="TemplateException"/>s: raised by the template, a runtime type error, or a bound exceeded.
    /// </summary>
    public string Render(JsonObject variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        throw new NotImplementedException();
    }
}
