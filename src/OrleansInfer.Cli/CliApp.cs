using System.CommandLine;
using OrleansInfer.Cli.Commands;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Engine;
using OrleansInfer.Model;
using OrleansInfer.Model.Chat;
using OrleansInfer.Model.Templates;

namespace OrleansInfer.Cli;

/// <summary>
/// The orleans-infer command tree. Errors never show a stack trace: bad arguments and bad input files give
/// one line on stderr and exit code 2, other failures exit code 1.
/// </summary>
public static class CliApp
{
    public static RootCommand Build(TextWriter output, TextWriter error) => Build(Console.In, output, error);

    public static RootCommand Build(TextReader input, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("OrleansInfer: Llama inference in .NET");
        root.Subcommands.Add(GenerateCommand.Create(output, error));
        root.Subcommands.Add(TokenizeCommand.Create(output, error));
        root.Subcommands.Add(ModelCommand.Create(output, error));
        root.Subcommands.Add(BenchCommand.Create(output, error));
        root.Subcommands.Add(SiloCommand.Create(output, error));
        root.Subcommands.Add(ClusterCommand.Create(output, error));
        root.Subcommands.Add(ChatCommand.Create(input, output, error));
        root.Subcommands.Add(TemplateCommand.Create(output, error));
        root.Subcommands.Add(ServeCommand.Create(output));
        root.Subcommands.Add(GatewayCommand.Create(output, error));
        root.Subcommands.Add(EvalCommand.Create(output, error));
        return root;
    }

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error) => RunAsync(args, Console.In, output, error);

    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        var root = Build(input, output, error);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            error.WriteLine($"orleans-infer: {parsed.Errors[0].Message} (see --help)");
            return ExitCodes.Usage;
        }

        try
        {
            var configuration = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
            // Chat handles Ctrl+C itself (it stops the reply, not the process); silo, serve and gateway drain through their
            // hosts, which may take longer than the parser's grace period, and then exit 0.
            if (parsed.CommandResult.Command.Name is ChatCommand.Name or ServeCommand.Name or GatewayCommand.Name or SiloCommand.Name)
                configuration.ProcessTerminationTimeout = null;
            return await parsed.InvokeAsync(configuration);
        }
        catch (Exception e)
        {
            var (message, code) = Describe(e);
            error.WriteLine($"orleans-infer: {message}");
            return code;
        }
    }

    private static (string Message, int ExitCode) Describe(Exception e) => e switch
    {
        CliException c => (c.Message, c.ExitCode),
        ModelFormatException m => ($"invalid model file: {m.Message}", ExitCodes.Usage),
        InvalidRequestException r => ($"invalid request: {r.Message}", ExitCodes.Usage),
        ChatTemplateMissingException t => (t.Message, ExitCodes.Usage),
        TemplateRaisedException t => ($"the chat template refused the conversation: {t.Message}", ExitCodes.Usage),
        TemplateException t => ($"chat template error at {t.Describe()}", ExitCodes.Usage),
        FileNotFoundException f => (f.Message, ExitCodes.Usage),
        DirectoryNotFoundException d => (d.Message, ExitCodes.Usage),
        UnauthorizedAccessException u => (u.Message, ExitCodes.Usage),
        OperationCanceledException => ("cancelled", ExitCodes.Cancelled),
        IOException io => ($"I/O error: {io.Message}", ExitCodes.Failure),
        OutOfMemoryException => ("out of memory (try a smaller --kv-blocks or model)", ExitCodes.Failure),
        // Some exceptions carry a whole inner stack trace in their message: one line is enough here.
        _ => ($"{e.GetType().Name}: {e.Message.Split('\n')[0].TrimEnd()}", ExitCodes.Failure),
    };
}
