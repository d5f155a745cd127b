namespace OrleansInfer.Cli.Infrastructure;

/// <summary>A failure reported as one line and an exit code: 2 for bad arguments or input, 1 for everything else.</summary>
internal sealed class CliException(string message, int exitCode = ExitCodes.Usage) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int Cancelled = 130;
}
