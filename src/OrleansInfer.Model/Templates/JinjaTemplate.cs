using System.Text.Json.Nodes;
using OrleansInfer.Model.Templates.Ast;
using OrleansInfer.Model.Templates.Parsing;
using OrleansInfer.Model.Templates.Runtime;

namespace OrleansInfer.Model.Templates;

/// <summary>
/// A parsed Jinja template, rendered as Python's Jinja2 renders it with transformers' chat-template settings
/// (trim_blocks, lstrip_blocks, loopcontrols, tojson keeping non-ASCII, raise_exception, strftime_now).
/// Immutable after parsing and safe to render from several threads at once.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly Stmt[] _body;

    private JinjaTemplate(string source, TemplateOptions options, Stmt[] body)
    {
        Source = source;
        Options = options;
        _body = body;
    }

    public string Source { get; }

    public TemplateOptions Options { get; }

    /// <summary>Parses <paramref name="source"/>; a syntax error, an unknown filter or test is a <see cref="TemplateSyntaxException"/>.</summary>
    public static JinjaTemplate Parse(string source, TemplateOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= TemplateOptions.Default;
        return new JinjaTemplate(source, options, Parser.Parse(source));
    }

    /// <summary>
    /// Renders with <paramref name="variables"/> as the whole variable set (JSON null is Python's None).
    /// Errors are <see cref="TemplateException"/>s: raised by the template, a runtime type error, or a bound exceeded.
    /// </summary>
    public string Render(JsonObject variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var ctx = new RenderContext(Options, JsonInput.ToScope(variables));
        try
        {
            Stmt.Run(_body, ctx);
        }
        catch (InsufficientExecutionStackException)
        {
            throw new TemplateLimitException($"recursion deeper than the stack allows (MaxRecursionDepth {Options.MaxRecursionDepth})", 1, 1);
        }
        return ctx.Output.ToString();
    }
}
