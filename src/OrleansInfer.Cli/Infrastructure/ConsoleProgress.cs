using System.Diagnostics;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>
/// Progress of long work (model load, synth, convert) on stderr: a live percentage on a terminal, a line per
/// 10% otherwise, and the elapsed time at the end. Never on stdout, so JSON output stays clean.
/// </summary>
internal sealed class ConsoleProgress(TextWriter error, string label) : IProgress<double>, IDisposable
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _interactive = !Console.IsErrorRedirected && ReferenceEquals(error, Console.Error);
    private int _lastShown = -1;

    public void Report(double value)
    {
        var percent = (int)Math.Clamp(value * 100, 0, 100);
        if (_interactive)
        {
            if (percent == _lastShown) return;
            error.Write($"\r{label}: {percent,3}%");
        }
        else
        {
            if (percent / 10 == _lastShown / 10) return;
            error.WriteLine($"{label}: {percent}%");
        }
        _lastShown = percent;
    }

    public void Dispose()
    {
        if (_interactive && _lastShown >= 0) error.WriteLine();
        error.WriteLine($"{label}: done in {_clock.Elapsed.TotalSeconds:F1} s");
    }
}
