using Microsoft.Extensions.Logging;

namespace OrleansInfer.Silo.Tests;

/// <summary>An <see cref="ILogger{T}"/> that keeps "Level: message" lines for assertions.</summary>
public sealed class CapturedLogger<T> : ILogger<T>
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines) return [.. _lines];
        }
    }

    public IReadOnlyList<string> AtLeast(LogLevel level) => Lines.Where(l => Enum.Parse<LogLevel>(l[..l.IndexOf(':')]) >= level).ToList();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines) _lines.Add($"{logLevel}: {formatter(state, exception)}");
    }
}
