using LLama;
using LLama.Native;

namespace OrleansInfer.LlamaCppPeer;

/// <summary>
/// llama.cpp's own quantizer (llama_model_quantize, as the llama-quantize tool runs it): the K-quant mixes
/// (Q4_K_M keeps attn_v/ffn_down of some layers and output.weight at higher precision), the legacy types, and the
/// fallbacks llama.cpp applies to rows that are not whole blocks (q5_0/q5_1/q8_0/f16 for 64- or 172-wide rows).
/// </summary>
public static class Quantizer
{
    /// <summary>The file types the `quantize` command names, as llama-quantize spells them.</summary>
    public static readonly string[] TypeNames =
        ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"];

    /// <summary>The llama.cpp file type for a name such as "q4_k_m" or "Q8_0" (case ignored), or null.</summary>
    public static LLamaFtype? TryParse(string name)
    {
        var upper = name.ToUpperInvariant();
        if (!TypeNames.Contains(upper)) return null;
        return upper == "F32" ? LLamaFtype.ALL_F32 : Enum.Parse<LLamaFtype>("MOSTLY_" + upper);
    }

    /// <summary>The llama-quantize name of a file type ("Q4_K_M").</summary>
    public static string Name(LLamaFtype type) => type == LLamaFtype.ALL_F32 ? "F32" : type.ToString().Replace("MOSTLY_", "", StringComparison.Ordinal);

    /// <summary>
    /// Quantizes <paramref name="source"/> into <paramref name="destination"/> with llama.cpp's defaults
    /// (output.weight quantized too, as llama-quantize does unless --leave-output-tensor).
    /// </summary>
    public static void Quantize(string source, string destination, LLamaFtype type, int threads, bool leaveOutputTensor = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (!File.Exists(source)) throw new FileNotFoundException($"model file not found: {source}", source);
        NativeLogging.Quiet();
        // Loads the native library before the first llama_model_quantize call.
        NativeApi.llama_empty_call();
        if (!LLamaQuantizer.Quantize(source, destination, type, threads, allowRequantize: true, quantizeOutputTensor: !leaveOutputTensor))
            throw new InvalidOperationException($"llama.cpp could not quantize {source} to {Name(type)}");
    }
}

/// <summary>`quantize --in F --out G --type T`: <see cref="Quantizer"/> from the command line.</summary>
public static class QuantizeCommand
{
    public static readonly string Usage =
        $"usage: quantize --in PATH --out PATH --type {string.Join('|', Quantizer.TypeNames)} [--threads T] [--leave-output-tensor]";

    public static int Run(string[] args, TextWriter output)
    {
        string? source = null, destination = null, typeName = null;
        var threads = Environment.ProcessorCount;
        var leaveOutput = false;
        var a = new CommandArgs(args);
        while (a.NextName() is { } name)
        {
            switch (name)
            {
                case "--in": source = a.Value(name); break;
                case "--out": destination = a.Value(name); break;
                case "--type": typeName = a.Value(name); break;
                case "--threads" or "-t": threads = a.Int(name); break;
                case "--leave-output-tensor": leaveOutput = true; break;
                case "--help" or "-h": output.WriteLine(Usage); return ExitCodes.Ok;
                default: throw new UsageException($"unknown option '{name}' ({Usage})");
            }
        }
        source = CommandArgs.RequireFile(source, "--in");
        if (destination is null) throw new UsageException("--out is required");
        if (typeName is null) throw new UsageException("--type is required");
        var type = Quantizer.TryParse(typeName) ?? throw new UsageException($"--type: '{typeName}' is not one of {string.Join(", ", Quantizer.TypeNames)}");
        if (threads < 1) throw new UsageException("--threads must be at least 1");

        Quantizer.Quantize(source, destination, type, threads, leaveOutput);
        output.WriteLine($"{destination}: {typeName.ToUpperInvariant()} ({new FileInfo(destination).Length} bytes), quantized by llama.cpp from {Path.GetFileName(source)}");
        return ExitCodes.Ok;
    }
}
