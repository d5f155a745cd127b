using System.Runtime.InteropServices;

namespace OrleansInfer.Silo.Tests;

/// <summary>POSIX signals for fault drills (Linux numbers).</summary>
public static partial class Signals
{
    public const int Continue = 18;
    public const int Stop = 19;

    [LibraryImport("libc", EntryPoint = "kill")]
    public static partial int Send(int pid, int signal);
}
