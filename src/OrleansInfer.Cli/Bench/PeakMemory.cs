namespace OrleansInfer.Cli.Bench;

/// <summary>
/// The process's peak resident memory, reported by every benchmark so runs of ours and the llama.cpp peer
/// compare on memory too: Linux's VmHWM (the high-water mark of the resident set), which counts the mapped
/// weight pages actually read as well as the heaps; null where /proc is not there.
/// </summary>
public static class PeakMemory
{
    public static long? ResidentBytes()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return null;
        foreach (var line in File.ReadLines(path))
        {
            // "VmHWM:	  123456 kB"
            if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
            var fields = line["VmHWM:".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            return fields.Length == 2 && fields[1] == "kB" && long.TryParse(fields[0], out var kb) ? kb * 1024 : null;
        }
        return null;
    }

    /// <summary>Writes `"peak_rss_bytes": N` (or null).</summary>
    public static void WriteTo(System.Text.Json.Utf8JsonWriter w)
    {
        if (ResidentBytes() is { } bytes) w.WriteNumber("peak_rss_bytes", bytes);
        else w.WriteNull("peak_rss_bytes");
    }
}
