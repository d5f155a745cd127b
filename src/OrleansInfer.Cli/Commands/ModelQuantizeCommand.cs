using System.CommandLine;
using System.Globalization;
using OrleansInfer.Cli.Evaluation;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Model;
using OrleansInfer.Model.Quantization;
using OrleansInfer.Model.Tensors;

namespace OrleansInfer.Cli.Commands;

/// <summary>
/// `model quantize IN OUT --type MIX`: llama.cpp's quantization mixes (<see cref="QuantizationRecipe"/>); or
/// `--selective`: each matrix's measured sensitivity decides which ones keep the high type within a bits-per-weight budget.
/// </summary>
internal static class ModelQuantizeCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var input = new Argument<string>("in") { Description = "GGUF file or llama2.c .bin checkpoint (with --tokenizer)" };
        var outPath = new Argument<string>("out") { Description = "GGUF file to write" };
        var tokenizer = CommonOptions.Tokenizer();
        var type = new Option<string?>("--type") { Description = $"Quantization mix, as llama-quantize names them: {string.Join(", ", QuantizationMixes.Quantizable.Select(QuantizationMixes.Name))}" };
        var selective = new Option<bool>("--selective") { Description = "Choose each matrix's type from its measured sensitivity (needs --calibration-file and --target-bpw)" };
        var calibration = new Option<string?>("--calibration-file") { Description = "Text whose next-token distributions the sensitivities are measured on" };
        var target = new Option<double?>("--target-bpw") { Description = "Most bits per weight over the quantizable matrices (selective)" };
        var baseType = new Option<string>("--base-type") { Description = "Type every matrix starts at (selective)", DefaultValueFactory = _ => "q4_0" };
        var highType = new Option<string>("--high-type") { Description = "Type the most sensitive matrices get (selective)", DefaultValueFactory = _ => "q8_0" };
        var order = new Option<string>("--order") { Description = "sensitivity (measured, per extra bit) or position (embedding/output, then first and last layers inwards)", DefaultValueFactory = _ => "sensitivity" };
        order.AcceptOnlyFromAmong("sensitivity", "position");
        var highCount = new Option<int?>("--high-count") { Description = "Raise exactly this many matrices to the high type instead of filling the --target-bpw budget (selective)" };
        var ctx = EvalCommand.ContextOption();
        var json = CommonOptions.Json();
        var runner = new EvalRunnerOptions();
        var command = new Command("quantize", "Write a model quantized with a llama.cpp mix, or selectively by measured sensitivity");
        command.Arguments.Add(input);
        command.Arguments.Add(outPath);
        foreach (var o in new Option[] { tokenizer, type, selective, calibration, target, baseType, highType, order, highCount, ctx, json }) command.Options.Add(o);
        runner.AddTo(command);
        command.SetAction(r =>
        {
            using var file = LoadedModel.OpenFile(r.GetValue(input)!, r.GetValue(tokenizer));
            if (file.Config is { Architecture: not ModelArchitecture.Llama } config)
                throw new CliException($"model quantize follows llama.cpp's recipes for the llama architecture only, not {config.Architecture.Name()}");
            var destination = r.GetValue(outPath)!;
            if (Path.GetFullPath(destination) == Path.GetFullPath(file.Path)) throw new CliException("the output would overwrite the input");
            var threads = r.GetValue(runner.Threads);
            if (threads < 1) throw new CliException("--threads must be at least 1");

            IReadOnlyList<TensorChoice> choices;
            IReadOnlyDictionary<string, double>? sensitivity = null;
            int fileType;
            double? targetBpw = null;
            if (r.GetValue(selective))
            {
                if (r.GetValue(type) is not null) throw new CliException("--selective chooses the types itself: leave out --type");
                var low = ParseType("--base-type", r.GetValue(baseType)!);
                var high = ParseType("--high-type", r.GetValue(highType)!);
                if (GgmlTypeInfo.BitsPerWeight(high) <= GgmlTypeInfo.BitsPerWeight(low)) throw new CliException($"--high-type {GgmlTypeInfo.Name(high)} has no more bits than --base-type {GgmlTypeInfo.Name(low)}");
                var byPosition = r.GetValue(order) == "position";
                var count = r.GetValue(highCount);
                if (count is < 0) throw new CliException("--high-count must be at least 0");
                targetBpw = r.GetValue(target);
                if (count is null && targetBpw is null) throw new CliException("--selective needs --target-bpw (or --high-count)");
                if (!byPosition)
                {
                    var calibrationPath = r.GetValue(calibration) ?? throw new CliException("--selective needs --calibration-file to measure sensitivities");
                    var chunks = EvalCommand.Prepare(file, calibrationPath, r.GetValue(ctx));
                    var choice = runner.For(r, file.Config!, KvCacheDataType.F32, chunks.Context, chunks.Windows.Count);
                    sensitivity = Sensitivity.Measure(file, chunks, low, choice, threads, error);
                }
                try
                {
                    choices = SelectivePlan.Choose(file.Config!, sensitivity ?? new Dictionary<string, double>(), low, high, targetBpw ?? 0, count,
                        byPosition ? SelectionOrder.Position : SelectionOrder.Sensitivity);
                }
                catch (ArgumentOutOfRangeException e) when (e.ParamName == "targetBitsPerWeight")
                {
                    throw new CliException($"--target-bpw {targetBpw?.ToString(CultureInfo.InvariantCulture)} is too small: {e.Message.Split(Environment.NewLine)[0].Split(" (Parameter")[0]}");
                }
                fileType = BaseFileType(low);
            }
            else
            {
                var name = r.GetValue(type) ?? throw new CliException("--type is required (or --selective)");
                if (!QuantizationMixes.TryParse(name, out var mix) || !QuantizationMixes.Quantizable.Contains(mix))
                    throw new CliException($"unknown --type '{name}' ({string.Join(", ", QuantizationMixes.Quantizable.Select(QuantizationMixes.Name))})");
                choices = QuantizationRecipe.Choose(file.Config!, mix);
                fileType = QuantizationMixes.FileType(mix);
            }

            if (choices.FirstOrDefault(c => !LlamaGguf.CanWrite(c.Type)) is { } missing)
                throw new CliException($"{missing.Name} needs {GgmlTypeInfo.Name(missing.Type)}, which this build cannot encode yet", ExitCodes.Failure);
            using (var progress = new ConsoleProgress(error, "quantizing"))
            {
                ModelQuantizer.Write(file, destination, choices, fileType, threads, progress);
            }
            QuantizeReport.Write(output, r.GetValue(json), destination, choices, sensitivity, targetBpw);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static GgmlType ParseType(string option, string name) =>
        GgmlTypeInfo.TryParse(name, out var t) && BaseMix(t) is not null && LlamaGguf.CanWrite(t)
            ? t
            : throw new CliException($"{option}: unknown or unsupported type '{name}' (f16, bf16, q8_0, q4_0, q4_k, q5_k or q6_k)");

    /// <summary>The llama.cpp mix whose default type <paramref name="type"/> is (its llama_ftype goes in general.file_type).</summary>
    private static QuantizationMix? BaseMix(GgmlType type) =>
        QuantizationMixes.Quantizable.Cast<QuantizationMix?>().FirstOrDefault(m => QuantizationMixes.DefaultType(m!.Value) == type);

    private static int BaseFileType(GgmlType type) => QuantizationMixes.FileType(BaseMix(type)!.Value);
}
