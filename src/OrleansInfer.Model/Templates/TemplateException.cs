namespace OrleansInfer.Model.Templates;

/// <summary>Any failure to parse or render a template, with the 1-based position in the source where it arose.</summary>
public abstract class TemplateException : Exception
{
    private protected TemplateException(string message, int line, int column, Exception? inner = null)
        : base(message, inner)
    {
        Line = line;
        Column = column;
    }

    public int Line { get; }

    public int Column { get; }

    /// <summary>"line L, column C: message".</summary>
    public string Describe() => $"line {Line}, column {Column}: {Message}";
}

/// <summary>The source is not valid Jinja, or names a filter or test that does not exist.</summary>
public sealed class TemplateSyntaxException(string message, int line, int column) : TemplateException(message, line, column);

/// <summary>The template called raise_exception; <see cref="Exception.Message"/> is exactly its argument.</summary>
public sealed class TemplateRaisedException(string message, int line, int column) : TemplateException(message, line, column);

/// <summary>An operation the values do not support (a type error, calling something that is not callable, a bad argument).</summary>
public sealed class TemplateRuntimeException(string message, int line, int column, Exception? inner = null) : TemplateException(message, line, column, inner);

/// <summary>A bound of <see cref="TemplateOptions"/> was exceeded.</summary>
public sealed class TemplateLimitException(string message, int line, int column) : TemplateException(message, line, column);
