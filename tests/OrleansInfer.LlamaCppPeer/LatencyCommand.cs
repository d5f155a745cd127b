using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using LLama.Native;
using OrleansInfer.Cli.Bench;

namespace OrleansInfer.LlamaCppPeer;

/// <summary>
/// llama.cpp's prefill and decode speed measured exactly as src/OrleansInfer.Cli/Bench/LatencyBench.cs measures
/// ours: warm-up runs first; then per repeat, Batch random prompts of InputLength ids drawn from
/// System.Random(seed) in [3, vocab) (the same ids as ours for the same seed and vocabulary) are prefilled in
/// one llama_decode (each sequence its own seq id), timed together with the first greedy token; then
/// OutputLength greedy steps, one token per sequence per llama_decode, each step timed. The KV cache is
/// cleared between repeats. Medians over the repeats; per-token percentiles over every measured step.
/// </summary>
public static class LatencyBench
{
    public static LatencyResult Run(LlamaCppSession session, LatencySettings s)
    {
        var vocab = session.VocabSize;
        var perSequence = s.InputLength + s.OutputLength;
        if (perSequence > session.TrainContextSize)
            throw new UsageException($"input + output length {perSequence} exceeds the model's context of {session.TrainContextSize}");
        if (s.Batch * s.InputLength > session.BatchSize)
            throw new UsageException($"a prefill of {s.Batch} x {s.InputLength} tokens exceeds llama.cpp's batch of {session.BatchSize}");

        var rng = new Random(s.Seed);
        var batch = new LLamaBatch();
        var rows = new int[s.Batch];
        var next = new int[s.Batch];
        var prefill = new List<double>();
        var decode = new List<double>();
        var ttft = new List<double>();
        var steps = new List<double>();

        for (var rep = 0; rep < s.Warmup + s.Repeats; rep++)
        {
            var measured = rep >= s.Warmup;
            session.ClearKvCache();
            batch.Clear();

            // Prefill: every prompt in one llama_decode.
            var clock = Stopwatch.StartNew();
            var prompts = Enumerable.Range(0, s.Batch).Select(_ => Enumerable.Range(0, s.InputLength).Select(_ => (LLamaToken)rng.Next(3, vocab)).ToArray()).ToArray();
            for (var b = 0; b < s.Batch; b++) rows[b] = batch.AddRange(prompts[b], 0, (LLamaSeqId)b, true);
            session.Decode(batch);
            for (var b = 0; b < s.Batch; b++) next[b] = LlamaCppSession.Argmax(session.Handle.GetLogitsIth(rows[b]));
            batch.Clear();
            var prefillSeconds = clock.Elapsed.TotalSeconds;

            // Decode: one token per sequence per llama_decode.
            var decodeClock = Stopwatch.StartNew();
            for (var step = 0; step < s.OutputLength; step++)
            {
                var stepStart = Stopwatch.GetTimestamp();
                for (var b = 0; b < s.Batch; b++) rows[b] = batch.Add(next[b], s.InputLength + step, (LLamaSeqId)b, true);
                session.Decode(batch);
                for (var b = 0; b < s.Batch; b++) next[b] = LlamaCppSession.Argmax(session.Handle.GetLogitsIth(rows[b]));
                batch.Clear();
                if (measured) steps.Add(Stopwatch.GetElapsedTime(stepStart).TotalMilliseconds);
            }
            var decodeSeconds = decodeClock.Elapsed.TotalSeconds;

            if (!measured) continue;
            prefill.Add(s.Batch * s.InputLength / prefillSeconds);
            decode.Add(s.OutputLength / decodeSeconds);
            ttft.Add(prefillSeconds * 1000);
        }
        session.ClearKvCache();

        return LatencyResult.From(prefill, decode, ttft, steps, s.Batch);
    }
}

/// <summary>`latency`: parses the options, loads the model, runs <see cref="LatencyBench"/> and prints the result.</summary>
public static class LatencyCommand
{
    public const string Usage =
        "usage: latency --model PATH [--input-len 128] [--output-len 64] [--batch 1] [--threads T] [--warmup 2] [--repeats 5] [--seed 1] [--kv-type f32|f16] [--flash-attn] [--json]";

    public static int Run(string[] args, TextWriter output)
    {
        string? model = null;
        int inputLen = 128, outputLen = 64, batch = 1, threads = Environment.ProcessorCount, warmup = 2, repeats = 5, seed = 1;
        var kvType = GGMLType.GGML_TYPE_F32;
        bool json = false, flashAttention = false;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value()
            {
                if (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"{name} needs a value");
                return args[++i];
            }
            int Int()
            {
                var v = Value();
                return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : throw new UsageException($"{name}: '{v}' is not an integer");
            }
            switch (name)
            {
                case "--model" or "-m": model = Value(); break;
                case "--input-len": inputLen = Int(); break;
                case "--output-len": outputLen = Int(); break;
                case "--batch": batch = Int(); break;
                case "--threads" or "-t": threads = Int(); break;
                case "--warmup": warmup = Int(); break;
                case "--repeats": repeats = Int(); break;
                case "--seed": seed = Int(); break;
                case "--kv-type":
                    var kv = Value();
                    kvType = kv switch
                    {
                        "f32" => GGMLType.GGML_TYPE_F32,
                        "f16" => GGMLType.GGML_TYPE_F16,
                        _ => throw new UsageException($"--kv-type: '{kv}' is not f32 or f16"),
                    };
                    break;
                case "--flash-attn": flashAttention = true; break;
                case "--json": json = true; break;
                case "--help" or "-h": output.WriteLine(Usage); return ExitCodes.Ok;
                default: throw new UsageException($"unknown option '{name}' ({Usage})");
            }
        }

        if (model is null) throw new UsageException("--model is required");
        if (!File.Exists(model)) throw new UsageException($"model file not found: {model}");
        var settings = new LatencySettings(inputLen, outputLen, batch, warmup, repeats, seed);
        if (settings.InputLength < 1 || settings.OutputLength < 1 || settings.Batch < 1 || settings.Warmup < 0 || settings.Repeats < 1)
            throw new UsageException("--input-len, --output-len, --batch and --repeats must be at least 1, --warmup at least 0");
        if (threads < 1) throw new UsageException("--threads must be at least 1");

        // Each sequence gets its own KV stream of input + output cells; the whole prefill is one llama_decode.
        var perSequence = inputLen + outputLen;
        using var session = new LlamaCppSession(model, threads, contextSize: batch * perSequence, sequences: batch,
            kvType: kvType, flashAttention: flashAttention, batchSize: Math.Max(batch * inputLen, batch));
        var res = LatencyBench.Run(session, settings);
        var device = DeviceName(threads, kvType, flashAttention);

        var report = new LatencyReport("llama.cpp", "cpu", device, Path.GetFileName(model), threads, settings, res);
        output.WriteLine(json ? report.ToJson() : report.ToText());
        return ExitCodes.Ok;
    }

    /// <summary>The `device` field of the reports: threads, llama.cpp's SIMD level, KV type, flash attention.</summary>
    public static string DeviceName(int threads, GGMLType kvType, bool flashAttention) =>
        $"CPU ({threads} threads, llama.cpp {SimdLevel()}, KV {(kvType == GGMLType.GGML_TYPE_F32 ? "f32" : "f16")}{(flashAttention ? ", flash attention" : "")})";

    /// <summary>The best SIMD level llama.cpp's CPU backend reports (from llama_print_system_info).</summary>
    private static string SimdLevel()
    {
        string info;
        try
        {
            info = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(NativeApi.llama_print_system_info()) ?? "";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return "unknown SIMD";
        }
        if (info.Contains("AVX512 = 1", StringComparison.Ordinal)) return "AVX-512";
        if (info.Contains("AVX2 = 1", StringComparison.Ordinal)) return "AVX2";
        if (info.Contains("AVX = 1", StringComparison.Ordinal)) return "AVX";
        return "scalar";
    }
}
