using System.Text.Encodings.Web;
using System.Text.Json;
using LLama.Native;
using OrleansInfer.Cli.Bench;
using OrleansInfer.Engine.Baselines;

namespace OrleansInfer.LlamaCppPeer;

/// <summary>
/// `throughput`: the workload of `orleans-infer bench throughput` (same options, same seed, same JSON fields)
/// through llama.cpp's batched decoding (<see cref="PeerThroughputBench"/>).
/// </summary>
public static class ThroughputCommand
{
    public const string Usage =
        "usage: throughput --model PATH [--num-prompts 64] [--input-len 16:256] [--output-len 16:256] [--seed 1] [--sequences N | --max-num-seqs N] [--max-num-batched-tokens 512] [--threads T] [--kv-type f32|f16] [--flash-attn] [--json]";

    /// <summary>llama.cpp's limit on sequence ids in one context (LLAMA_MAX_SEQ).</summary>
    private const int MaxSequenceIds = 256;

    public static int Run(string[] args, TextWriter output)
    {
        string? model = null;
        int requests = 64, seed = 1, threads = Environment.ProcessorCount, maxBatchTokens = 512;
        int? maxSequences = null;
        (int Min, int Max) inputLen = (16, 256), outputLen = (16, 256);
        string inputText = "16:256", outputText = "16:256";
        var kvType = GGMLType.GGML_TYPE_F32;
        bool json = false, flashAttention = false;
        var a = new CommandArgs(args);
        while (a.NextName() is { } name)
        {
            switch (name)
            {
                case "--model" or "-m": model = a.Value(name); break;
                case "--num-prompts": requests = a.Int(name); break;
                case "--input-len": inputText = a.Value(name); inputLen = CommandArgs.ParseRange(inputText, name); break;
                case "--output-len": outputText = a.Value(name); outputLen = CommandArgs.ParseRange(outputText, name); break;
                case "--seed": seed = a.Int(name); break;
                case "--sequences":
                    // N requests all decoding together: --num-prompts N --max-num-seqs N.
                    requests = a.Int(name);
                    maxSequences = requests;
                    break;
                case "--max-num-seqs": maxSequences = a.Int(name); break;
                case "--max-num-batched-tokens": maxBatchTokens = a.Int(name); break;
                case "--threads" or "-t": threads = a.Int(name); break;
                case "--kv-type": kvType = a.KvType(name); break;
                case "--flash-attn": flashAttention = true; break;
                case "--json": json = true; break;
                case "--help" or "-h": output.WriteLine(Usage); return ExitCodes.Ok;
                default: throw new UsageException($"unknown option '{name}' ({Usage})");
            }
        }

        model = CommandArgs.RequireFile(model, "--model");
        if (requests < 1) throw new UsageException("--num-prompts must be at least 1");
        if (threads < 1) throw new UsageException("--threads must be at least 1");
        var sequences = Math.Min(maxSequences ?? 256, requests);
        if (sequences is < 1 or > MaxSequenceIds) throw new UsageException($"--max-num-seqs must be 1..{MaxSequenceIds}");
        if (maxBatchTokens < sequences) throw new UsageException($"--max-num-batched-tokens must be at least the {sequences} sequences decoding together");

        // Each sequence id gets its own KV stream holding its longest request.
        var perSequence = inputLen.Max + outputLen.Max;
        var workload = new ThroughputWorkload(requests, inputLen, outputLen, seed);
        using var session = new LlamaCppSession(model, threads, contextSize: sequences * perSequence, sequences: sequences,
            kvType: kvType, flashAttention: flashAttention, batchSize: maxBatchTokens);
        if (perSequence > session.TrainContextSize)
            throw new UsageException($"the longest request ({inputLen.Max} + {outputLen.Max} tokens) exceeds the model's context of {session.TrainContextSize}");
        var stats = PeerThroughputBench.Run(session, workload.Build(session.VocabSize), sequences, maxBatchTokens);
        var device = LatencyCommand.DeviceName(threads, kvType, flashAttention);

        if (!json)
        {
            output.WriteLine($"llama.cpp batched decoding, {sequences} sequence ids: {stats.Requests} requests in {stats.ElapsedSeconds:F2} s");
            output.WriteLine($"  {stats.OutputTokensPerSecond:F1} output tokens/s, {stats.TotalTokensPerSecond:F1} total tokens/s, KV utilization {stats.KvUtilization:P1}, {stats.MeanBatchSequences:F1} sequences per step");
            return ExitCodes.Ok;
        }
        output.WriteLine(ToJson(w =>
        {
            w.WriteString("engine", "llama.cpp");
            w.WriteString("backend", "cpu");
            w.WriteString("device", device);
            w.WriteString("model", Path.GetFileName(model));
            w.WriteString("batching", "continuous");
            w.WriteNumber("threads", threads);
            w.WriteNumber("requests", stats.Requests);
            w.WriteString("input_len", inputText);
            w.WriteString("output_len", outputText);
            w.WriteNumber("seed", seed);
            w.WriteNumber("elapsed_s", Math.Round(stats.ElapsedSeconds, 3));
            w.WriteNumber("prompt_tokens", stats.PromptTokens);
            w.WriteNumber("output_tokens", stats.OutputTokens);
            w.WriteNumber("output_tokens_per_s", Math.Round(stats.OutputTokensPerSecond, 2));
            w.WriteNumber("total_tokens_per_s", Math.Round(stats.TotalTokensPerSecond, 2));
            w.WriteNumber("kv_utilization", Math.Round(stats.KvUtilization, 4));
            w.WriteNumber("steps", stats.Steps);
            w.WriteNumber("preemptions", stats.Preemptions);
            w.WriteNumber("mean_batch_sequences", Math.Round(stats.MeanBatchSequences, 2));
            // llama.cpp has no KV blocks: every sequence id owns a fixed stream of cells.
            w.WriteNumber("sequences", sequences);
            w.WriteNumber("kv_cells", session.ContextSize);
            PeakMemory.WriteTo(w);
        }));
        return ExitCodes.Ok;
    }

    private static string ToJson(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
