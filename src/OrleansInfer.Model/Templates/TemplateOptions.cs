namespace OrleansInfer.Model.Templates;

/// <summary>Bounds that keep any template, however hostile, from hanging or exhausting memory; and the clock of strftime_now.</summary>
public sealed record TemplateOptions
{
    public static TemplateOptions Default { get; } = new();

    /// <summary>Deepest nesting of macro calls, call blocks and recursive evaluation.</summary>
    public int MaxRecursionDepth { get; init; } = 64;

    /// <summary>Most characters one render may produce (including block-set and filter-block buffers).</summary>
    public int MaxOutputLength { get; init; } = 4 * 1024 * 1024;

    /// <summary>Most loop iterations in one render, all loops together.</summary>
    public long MaxLoopIterations { get; init; } = 1_000_000;

    /// <summary>The clock strftime_now reads (local time of this provider).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;
}
