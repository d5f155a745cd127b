using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace OrleansInfer.Silo;

/// <summary>
/// What a silo does when Orleans finds it fatally broken, above all when the cluster declared it dead (it stopped
/// answering for longer than the membership timeout: paused, frozen, cut off): it says so in one clear line and exits
/// at once with <see cref="SiloExitCodes.DeclaredDead"/>, so its supervisor (Kubernetes, systemd) starts it again
/// under a new generation. Its requests were already resumed elsewhere by their clients.
/// </summary>
internal sealed class DeclaredDeadHandler(ILogger<DeclaredDeadHandler> logger) : IFatalErrorHandler
{
    public bool IsUnexpected(Exception exception) => true;

    public void OnFatalException(object? sender, string? context, Exception? exception)
    {
        var declaredDead = context?.Contains("dead", StringComparison.OrdinalIgnoreCase) == true;
        var line = declaredDead
            ? "orleans-infer silo: the cluster declared this silo dead (it stopped answering for longer than the membership timeout); exiting so it can rejoin under a new generation"
            : $"orleans-infer silo: fatal error ({context}{(exception is null ? "" : $": {exception.Message}")}); exiting";
        logger.LogCritical(exception, "{Line}", line);
        Console.Error.WriteLine(line);
        Console.Out.Flush();
        Console.Error.Flush();
        // Exit now: a graceful stop would try to drain through a cluster that has already moved on.
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) ExitImmediately(declaredDead ? SiloExitCodes.DeclaredDead : SiloExitCodes.Fatal);
        Environment.FailFast(line, exception);
    }

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void ExitImmediately(int status);
}

/// <summary>Exit codes of `orleans-infer silo` beyond 0 (stopped), 1 (failed to start) and 2 (bad configuration).</summary>
public static class SiloExitCodes
{
    /// <summary>The cluster declared the silo dead: restart it (it rejoins under a new generation).</summary>
    public const int DeclaredDead = 3;

    /// <summary>Orleans found the silo fatally broken otherwise.</summary>
    public const int Fatal = 4;
}
