namespace OrleansInfer.Model;

/// <summary>
/// The one error a model, tokenizer or checkpoint reader raises for malformed input:
/// what is wrong and at which byte offset of the file it was found.
/// </summary>
public sealed class ModelFormatException : Exception
{
    public ModelFormatException(string reason, long offset, string? path = null)
        : base(Format(reason, offset, path))
    {
        Reason = reason;
        Offset = offset;
        FilePath = path;
    }

    /// <summary>What is wrong, without the location.</summary>
    public string Reason { get; }

    /// <summary>Byte offset in the file where the problem was found (-1 when it is not tied to one place).</summary>
    public long Offset { get; }

    public string? FilePath { get; }

    private static string Format(string reason, long offset, string? path)
    {
        var where = offset >= 0 ? $" at byte offset {offset}" : "";
        var file = path is null ? "" : $"{Path.GetFileName(path)}: ";
        return $"{file}{reason}{where}";
    }
}
