using System.Runtime.InteropServices;

namespace OrleansInfer.Silo.Tests;

/// <summary>POSIX signals for fault drills (Linux numbers).</summary>
public static class Signals
{
    public const int Continue = 18;
    public const int Stop = 19;

    [DllImport("libc", EntryPoint = "kill")]
    public static extern int Send(int pid, int signal);
}
