using System.CommandLine;
using OrleansInfer.Cli.Chat;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine.Core;

namespace OrleansInfer.Cli.Commands;

/// <summary>`chat`: a conversation with a model through its chat template, interactive in a terminal, line by line when scripted.</summary>
internal static class ChatCommand
{
    public const string Name = "chat";

    public static Command Create(TextReader input, TextWriter output, TextWriter error)
    {
        var model = CommonOptions.Model(required: true);
        var tokenizer = CommonOptions.Tokenizer();
        var chatTemplate = TemplateFiles.ChatTemplateOption();
        var system = new Option<string?>("--system") { Description = "System message that opens the conversation" };
        var sampling = new SamplingOptions();
        var threads = CommonOptions.Threads();
        var limits = new EngineLimitOptions();
        var command = new Command(Name, "Chat with a model (one user message per line when stdin is not a terminal)");
        foreach (var o in new Option[] { model, tokenizer, chatTemplate, system, threads }) command.Options.Add(o);
        sampling.AddTo(command);
        limits.AddTo(command);

        command.SetAction(async (r, ct) =>
        {
            var parameters = sampling.Read(r);
            if (parameters.N != 1 || parameters.BestOf is not null || parameters.BeamWidth > 0)
                throw new CliException("chat streams one reply: --n, --best-of and --beam-width do not apply");
            var modelPath = r.GetValue(model)!;
            using var loaded = LoadedModel.Load(modelPath, r.GetValue(tokenizer), limits.ToRunnerOptions(r, r.GetValue(threads)), error);
            var template = TemplateFiles.ForModel(loaded.File.Vocabulary, modelPath, r.GetValue(chatTemplate));
            await using var engine = new LlmEngine(loaded.Runner!, loaded.Tokenizer, limits.ToEngineOptions(r));
            var session = new ChatSession(engine, template, parameters, r.GetValue(system));
            var interactive = ReferenceEquals(input, Console.In) && !Console.IsInputRedirected;
            var console = new ChatConsole(session, input, output, error, interactive);
            ConsoleCancelEventHandler onCtrlC = (_, e) => e.Cancel = console.StopReply();
            if (interactive) Console.CancelKeyPress += onCtrlC;
            try
            {
                await console.RunAsync(ct);
            }
            finally
            {
                if (interactive) Console.CancelKeyPress -= onCtrlC;
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
