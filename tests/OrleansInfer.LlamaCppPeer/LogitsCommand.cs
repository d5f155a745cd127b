namespace OrleansInfer.LlamaCppPeer;

/// <summary>
/// `logits --model M (--prompt TEXT | --prompt-tokens 1,2,3) --out FILE`: llama.cpp's raw logits of every prompt
/// position (little-endian f32, position-major: prompt length x vocabulary), from one llama_decode with an F32 KV
/// cache, for comparison with `orleans-infer eval logits`. A text prompt is tokenized by llama.cpp with BOS added
/// (as `generate` does); token ids are used as given.
/// </summary>
public static class LogitsCommand
{
    public const string Usage =
        "usage: logits --model PATH (--prompt TEXT | --prompt-tokens ID,ID,...) --out FILE [--threads 1]";

    public static int Run(string[] args, TextWriter output)
    {
        string? model = null, prompt = null, outPath = null;
        int[]? tokens = null;
        var threads = 1;
        var a = new CommandArgs(args);
        while (a.NextName() is { } name)
        {
            switch (name)
            {
                case "--model" or "-m": model = a.Value(name); break;
                case "--prompt": prompt = a.Value(name); break;
                case "--prompt-tokens": tokens = a.Ints(name); break;
                case "--out": outPath = a.Value(name); break;
                case "--threads" or "-t": threads = a.Int(name); break;
                case "--help" or "-h": output.WriteLine(Usage); return ExitCodes.Ok;
                default: throw new UsageException($"unknown option '{name}' ({Usage})");
            }
        }
        model = CommandArgs.RequireFile(model, "--model");
        if ((prompt is null) == (tokens is null)) throw new UsageException("give exactly one of --prompt or --prompt-tokens");
        if (outPath is null) throw new UsageException("--out is required");
        if (threads < 1) throw new UsageException("--threads must be at least 1");

        // One sequence; the whole prompt is one llama_decode, so the batch is the context.
        // SentencePiece never makes more tokens than UTF-8 bytes (byte fallback), plus BOS.
        var probe = tokens?.Length ?? System.Text.Encoding.UTF8.GetByteCount(prompt!) + 1;
        using var session = new LlamaCppSession(model, threads, contextSize: Math.Max(probe, 8));
        var ids = tokens ?? session.Tokenize(prompt!, addBos: true);
        if (ids.Length == 0) throw new UsageException("the prompt has no tokens");
        foreach (var id in ids)
        {
            if ((uint)id >= (uint)session.VocabSize) throw new UsageException($"--prompt-tokens: {id} is outside the vocabulary of {session.VocabSize}");
        }
        var logits = session.AllPromptLogits(ids);
        using (var file = File.Create(outPath))
        {
            file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(logits.AsSpan()));
        }
        output.WriteLine($"{outPath}: {ids.Length} positions x {session.VocabSize} logits (f32), prompt tokens [{string.Join(", ", ids)}]");
        return ExitCodes.Ok;
    }
}
