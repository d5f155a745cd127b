using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Model;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Cli.Commands;

/// <summary>`model inspect PATH [--tensor NAME [--dequantize-to FILE]]`: metadata, tensors, bytes and bits per type; one tensor as raw f32.</summary>
internal static class ModelInspectCommand
{
    public static Command Create(TextWriter output)
    {
        var path = new Argument<string>("path") { Description = "GGUF file or llama2.c checkpoint" };
        var tokenizer = CommonOptions.Tokenizer();
        var json = CommonOptions.Json();
        var tensor = new Option<string?>("--tensor") { Description = "Show only this tensor (a GGUF name such as blk.0.attn_q.weight)" };
        var dequantizeTo = new Option<string?>("--dequantize-to") { Description = "Write the --tensor as raw little-endian f32, row-major (ne0 contiguous, as ggml stores it)" };
        var command = new Command("inspect", "Show metadata, tensors, parameter count, bytes and bits per weight per type");
        command.Arguments.Add(path);
        foreach (var o in new Option[] { tokenizer, json, tensor, dequantizeTo }) command.Options.Add(o);
        command.SetAction(r =>
        {
            if (r.GetValue(dequantizeTo) is not null && r.GetValue(tensor) is null) throw new CliException("--dequantize-to needs --tensor NAME");
            using var file = LoadedModel.OpenFile(r.GetValue(path)!, r.GetValue(tokenizer), requireWeights: false);
            var views = file.Gguf is { } g ? g.Tensors.Select(g.View).ToList() : file.Weights!.All().ToList();
            if (r.GetValue(tensor) is { } name)
            {
                var view = views.FirstOrDefault(v => v.Name == name)
                    ?? throw new CliException($"no tensor named '{name}' in {file.Path} ({views.Count} tensors, e.g. {string.Join(", ", views.Take(3).Select(v => v.Name))})");
                return OneTensor(output, view, r.GetValue(dequantizeTo), r.GetValue(json));
            }
            WholeFile(output, file, views, r.GetValue(json));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static int OneTensor(TextWriter output, TensorView view, string? destination, bool json)
    {
        if (destination is not null) WriteFloats(view, destination);
        if (json)
        {
            output.WriteLine(Json.Object(w =>
            {
                WriteTensor(w, view);
                if (destination is not null) w.WriteString("dequantized_to", destination);
            }));
        }
        else
        {
            output.WriteLine(TensorLine(view));
            if (destination is not null) output.WriteLine($"wrote {destination} ({view.ElementCount:N0} f32 values, {view.Rows} rows of {view.Columns})");
        }
        return ExitCodes.Ok;
    }

    /// <summary>Rows are decoded a chunk at a time, so tensors larger than memory for f32 are fine.</summary>
    private static void WriteFloats(TensorView view, string destination)
    {
        var columns = checked((int)view.Columns);
        var chunkRows = (int)Math.Clamp((4L << 20) / columns, 1, view.Rows);
        var floats = new float[chunkRows * columns];
        var bytes = new byte[floats.Length * sizeof(float)];
        using var stream = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        for (long row = 0; row < view.Rows; row += chunkRows)
        {
            var n = (int)Math.Min(chunkRows, view.Rows - row);
            view.ReadRows(row, n, floats);
            for (var i = 0; i < n * columns; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), floats[i]);
            stream.Write(bytes, 0, n * columns * sizeof(float));
        }
    }

    private static void WholeFile(TextWriter output, ModelFile file, List<TensorView> views, bool json)
    {
        var parameters = views.Sum(t => t.ElementCount);
        var totalBytes = views.Sum(t => t.ByteCount);
        var byType = views.GroupBy(t => t.Type).OrderBy(x => x.Key)
            .Select(x => (Type: x.Key, Bytes: x.Sum(t => t.ByteCount), Count: x.Count(), Elements: x.Sum(t => t.ElementCount))).ToList();
        if (json)
        {
            output.WriteLine(Json.Object(w =>
            {
                w.WriteString("format", file.Format.ToString().ToLowerInvariant());
                if (file.Gguf is not null) w.WriteNumber("gguf_version", file.Gguf.Version);
                if (file.Config is { } c) WriteConfig(w, c);
                w.WriteNumber("vocab_tokens", file.Vocabulary.Count);
                w.WriteNumber("parameters", parameters);
                w.WriteNumber("bits_per_weight", BitsPerWeight(totalBytes, parameters));
                w.WriteStartObject("bytes_by_type");
                foreach (var t in byType) w.WriteNumber(GgmlTypeInfo.Name(t.Type), t.Bytes);
                w.WriteEndObject();
                w.WriteStartObject("metadata");
                foreach (var (k, v) in file.Gguf?.Metadata.Entries ?? []) w.WriteString(k, v.ToString());
                w.WriteEndObject();
                w.WriteStartArray("tensors");
                foreach (var t in views)
                {
                    w.WriteStartObject();
                    WriteTensor(w, t);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }));
            return;
        }

        output.WriteLine($"file:       {file.Path}");
        output.WriteLine($"format:     {(file.Gguf is { } gg ? $"GGUF v{gg.Version}, {gg.Metadata.Count} metadata keys, alignment {gg.Alignment}" : "llama2.c checkpoint")}");
        if (file.Config is { } cfg) output.WriteLine($"model:      {cfg.Describe()}, {(cfg.TiedOutput ? "tied" : "separate")} classifier, rms eps {cfg.RmsEpsilon.ToString(CultureInfo.InvariantCulture)}, rope base {cfg.RopeBase.ToString(CultureInfo.InvariantCulture)} over {cfg.RopeDimensionCount} dims");
        else output.WriteLine("model:      no weights (vocabulary only)");
        output.WriteLine($"tokenizer:  {file.Vocabulary.Kind}, {file.Vocabulary.Count} tokens, BOS {file.Vocabulary.BosId}, EOS {file.Vocabulary.EosId}");
        output.WriteLine($"parameters: {parameters:N0} ({parameters / 1e6:F2} M), {totalBytes:N0} bytes, {Bits(BitsPerWeight(totalBytes, parameters))} bits per weight");
        foreach (var t in byType)
        {
            output.WriteLine($"  {GgmlTypeInfo.Name(t.Type),-6} {t.Count,5} tensors {t.Bytes,16:N0} bytes  {Bits(GgmlTypeInfo.BitsPerWeight(t.Type))} bits per weight");
        }
        if (file.Gguf is { } meta)
        {
            output.WriteLine("metadata:");
            foreach (var (k, v) in meta.Metadata.Entries) output.WriteLine($"  {k} = {v}");
        }
        output.WriteLine("tensors:");
        foreach (var t in views) output.WriteLine(TensorLine(t));
    }

    private static string TensorLine(TensorView t) =>
        $"  {t.Name,-28} {GgmlTypeInfo.Name(t.Type),-6} [{string.Join(" x ", t.Shape)}] {t.ByteCount:N0} bytes";

    private static void WriteTensor(System.Text.Json.Utf8JsonWriter w, TensorView t)
    {
        w.WriteString("name", t.Name);
        w.WriteString("type", GgmlTypeInfo.Name(t.Type));
        w.WriteStartArray("shape");
        foreach (var d in t.Shape) w.WriteNumberValue(d);
        w.WriteEndArray();
        w.WriteNumber("bytes", t.ByteCount);
        w.WriteNumber("bits_per_weight", GgmlTypeInfo.BitsPerWeight(t.Type));
    }

    private static double BitsPerWeight(long bytes, long parameters) => parameters == 0 ? 0 : 8.0 * bytes / parameters;

    private static string Bits(double bits) => bits.ToString("0.###", CultureInfo.InvariantCulture);

    private static void WriteConfig(System.Text.Json.Utf8JsonWriter w, LlamaConfig c)
    {
        w.WriteStartObject("config");
        w.WriteNumber("context_length", c.ContextLength);
        w.WriteNumber("embedding_length", c.EmbeddingLength);
        w.WriteNumber("block_count", c.BlockCount);
        w.WriteNumber("feed_forward_length", c.FeedForwardLength);
        w.WriteNumber("head_count", c.HeadCount);
        w.WriteNumber("head_count_kv", c.KvHeadCount);
        w.WriteNumber("vocab_size", c.VocabSize);
        w.WriteNumber("rms_epsilon", c.RmsEpsilon);
        w.WriteNumber("rope_base", c.RopeBase);
        w.WriteNumber("rope_dimension_count", c.RopeDimensionCount);
        w.WriteBoolean("tied_output", c.TiedOutput);
        w.WriteString("architecture", c.Architecture.Name());
        w.WriteNumber("head_dim", c.HeadDim);
        w.WriteString("rope_scaling", c.RopeScaling.Type.ToString().ToLowerInvariant());
        if (c.SlidingWindow is { } window) w.WriteNumber("sliding_window", window);
        foreach (var (name, perLayer) in new[] { ("head_count_per_layer", c.LayerHeadCounts), ("head_count_kv_per_layer", c.LayerKvHeadCounts), ("feed_forward_length_per_layer", c.LayerFeedForwardLengths) })
        {
            if (perLayer is null) continue;
            w.WriteStartArray(name);
            foreach (var n in perLayer) w.WriteNumberValue(n);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }
}
