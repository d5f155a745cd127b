using System.Runtime.CompilerServices;
using System.Text;
using OrleansInfer.Model.Templates.Ast;

namespace OrleansInfer.Model.Templates.Runtime;

/// <summary>
/// The mutable state of one render: the current scope and output buffer, and the counters behind the bounds of
/// <see cref="TemplateOptions"/>. Created per render, so the parsed tree itself stays immutable and shareable.
/// </summary>
internal sealed class RenderContext(TemplateOptions options, Scope root)
{
    private long _written;
    private long _iterations;
    private int _depth;

    public TemplateOptions Options { get; } = options;

    public Scope Scope { get; set; } = root;

    public StringBuilder Output { get; set; } = new();

    public long MaxLength => Options.MaxOutputLength;

    public void Write(string text, Node at)
    {
        _written += text.Length;
        if (_written > Options.MaxOutputLength) throw Limit(at, $"output exceeds {Options.MaxOutputLength} characters");
        Output.Append(text);
    }

    public void CountIteration(Node at)
    {
        if (++_iterations > Options.MaxLoopIterations) throw Limit(at, $"more than {Options.MaxLoopIterations} loop iterations");
    }

    /// <summary>
    /// Enters a macro call or recursive loop; past MaxRecursionDepth (or when the stack runs low) it throws a
    /// LimitError, which the calling expression reports at its own position.
    /// </summary>
    public void Enter()
    {
        if (++_depth > Options.MaxRecursionDepth || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            _depth--;
            throw new LimitError($"recursion deeper than {Options.MaxRecursionDepth}");
        }
    }

    public void Leave() => _depth--;

    /// <summary>Runs <paramref name="body"/> into a fresh buffer and returns what it wrote (block set, macro, filter block).</summary>
    public string Capture(Action<RenderContext> body)
    {
        var saved = Output;
        Output = new StringBuilder();
        try
        {
            body(this);
            return Output.ToString();
        }
        finally
        {
            Output = saved;
        }
    }

    public static TemplateLimitException Limit(Node at, string message) => new(message, at.Line, at.Column);

    /// <summary>Turns a library error into the positioned public exception for the node where it arose.</summary>
    public static TemplateException Wrap(Node at, PyError error) => error switch
    {
        RaisedError => new TemplateRaisedException(error.Message, at.Line, at.Column),
        LimitError => new TemplateLimitException(error.Message, at.Line, at.Column),
        _ => new TemplateRuntimeException(error.Message, at.Line, at.Column, error),
    };
}
