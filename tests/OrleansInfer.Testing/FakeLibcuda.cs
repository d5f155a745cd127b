using System.Diagnostics;

namespace OrleansInfer.Testing;

/// <summary>
/// A stand-in CUDA driver library compiled with the machine's C compiler: <c>cuInit</c> returns a chosen result
/// and <c>cuDeviceGetCount</c> a chosen count, so the real native probe (and a whole CLI process, through
/// LD_LIBRARY_PATH) can meet a driver that is present but fails, on a machine without a GPU.
/// </summary>
public static class FakeLibcuda
{
    /// <summary>The C compiler on PATH (cc or gcc), or null.</summary>
    public static string? Compiler { get; } = FindCompiler();

    private const string Source = """
        int cuInit(unsigned int flags) { (void)flags; return INIT_RESULT; }
        int cuDeviceGetCount(int *count) { *count = DEVICE_COUNT; return 0; }
        int cuDriverGetVersion(int *version) { *version = 12040; return 0; }
        int cuGetErrorName(int error, const char **name) {
            if (error == 100) { *name = "CUDA_ERROR_NO_DEVICE"; return 0; }
            *name = 0; return 1;
        }
        int cuGetErrorString(int error, const char **text) {
            if (error == 100) { *text = "no CUDA-capable device is detected"; return 0; }
            *text = 0; return 1;
        }
        """;

    /// <summary>Compiles the library to <paramref name="folder"/>/<paramref name="fileName"/> and returns its path.</summary>
    public static string Build(string folder, string fileName, int initResult, int deviceCount = 0)
    {
        var compiler = Compiler ?? throw new InvalidOperationException("building a stand-in libcuda needs a C compiler (cc or gcc) on PATH");
        var source = Path.Combine(folder, Path.GetFileNameWithoutExtension(fileName) + ".c");
        var library = Path.Combine(folder, fileName);
        File.WriteAllText(source, Source);
        var start = new ProcessStartInfo(compiler) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in new[] { "-shared", "-fPIC", $"-DINIT_RESULT={initResult}", $"-DDEVICE_COUNT={deviceCount}", "-o", library, source }) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var errors = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(60_000))
        {
            p.Kill();
            throw new TimeoutException($"{compiler} did not build {library} within 60 s");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{compiler} failed to build {library}: {errors.Result}");
        return library;
    }

    private static string? FindCompiler()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return new[] { "cc", "gcc" }
            .SelectMany(name => path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(dir => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);
    }
}
