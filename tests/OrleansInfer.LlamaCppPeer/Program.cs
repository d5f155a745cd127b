namespace OrleansInfer.LlamaCppPeer;

/// <summary>Bad command-line input: one line on stderr, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

public static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
}

public static class Program
{
    public static int Main(string[] args)
    {
        try
        {
            if (args.Length == 0 || args[0] is "--help" or "-h")
            {
                Console.Out.WriteLine("llama.cpp peer (LLamaSharp) for orleans-infer comparisons. Commands:");
                Console.Out.WriteLine("  " + LatencyCommand.Usage);
                Console.Out.WriteLine("  " + ThroughputCommand.Usage);
                Console.Out.WriteLine("  " + QuantizeCommand.Usage);
                Console.Out.WriteLine("  " + LogitsCommand.Usage);
                return args.Length == 0 ? ExitCodes.Usage : ExitCodes.Ok;
            }
            return args[0] switch
            {
                "latency" => LatencyCommand.Run(args[1..], Console.Out),
                "throughput" => ThroughputCommand.Run(args[1..], Console.Out),
                "quantize" => QuantizeCommand.Run(args[1..], Console.Out),
                "logits" => LogitsCommand.Run(args[1..], Console.Out),
                _ => throw new UsageException($"unknown command '{args[0]}' (commands: latency, throughput, quantize, logits)"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException or LLama.Exceptions.RuntimeError)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Failure;
        }
    }
}
