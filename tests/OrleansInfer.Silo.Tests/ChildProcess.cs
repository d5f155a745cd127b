using System.Diagnostics;

namespace OrleansInfer.Silo.Tests;

/// <summary>A child process (orleans-infer, redis-server) whose output lines are collected as they come; waits say what they expected.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Seen)> _waiters = [];

    /// <summary>Runs `orleans-infer` (the CLI built beside the tests) with <paramref name="args"/>.</summary>
    public ChildProcess(string name, params string[] args)
        : this(name, new Dictionary<string, string>(), args)
    {
    }

    /// <summary>Runs `orleans-infer` with <paramref name="environment"/> added to the child's environment.</summary>
    public ChildProcess(string name, IReadOnlyDictionary<string, string> environment, params string[] args)
        : this(name, "dotnet", [Path.Combine(AppContext.BaseDirectory, "orleans-infer.dll"), .. args], environment)
    {
    }

    /// <summary>
    /// Runs <paramref name="fileName"/>. With <paramref name="redirectInput"/> the child's standard input is a pipe this
    /// process holds, so a child that exits when its input closes never outlives a test host that died.
    /// </summary>
    public ChildProcess(string name, string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, bool redirectInput = false)
    {
        Name = name;
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = redirectInput, UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        foreach (var a in args) start.ArgumentList.Add(a);
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => Add("out", e.Data);
        _process.ErrorDataReceived += (_, e) => Add("err", e.Data);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Output lines (stdout and stderr) matching <paramref name="match"/>.</summary>
    public int Count(Func<string, bool> match) => Lines.Count(l => match(l[5..]));

    public string Output => string.Join('\n', Lines.Where(l => l.StartsWith("out: ", StringComparison.Ordinal)).Select(l => l[5..]));

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines) return [.. _lines];
        }
    }

    private void Add(string stream, string? line)
    {
        if (line is null) return;
        lock (_lines)
        {
            _lines.Add($"{stream}: {line}");
            foreach (var w in _waiters.Where(w => w.Match(line)).ToList())
            {
                w.Seen.TrySetResult(line);
                _waiters.Remove(w);
            }
        }
    }

    /// <summary>Waits for an output line matching <paramref name="match"/> (stdout or stderr).</summary>
    /// <summary>
    /// The line `silo`, `serve` and `gateway` print on stdout once they serve ("orleans-infer serve (...) ready: ..."),
    /// not a log line that happens to contain the word ("... already in use").
    /// </summary>
    public static bool IsReadyLine(string line) =>
        line.StartsWith("orleans-infer ", StringComparison.Ordinal) && line.Contains(" ready: ", StringComparison.Ordinal);

    public async Task<string> WaitForLine(Func<string, bool> match, TimeSpan timeout, string expected)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lines)
        {
            var found = _lines.Select(l => l[5..]).FirstOrDefault(match);
            if (found is not null) return found;
            _waiters.Add((match, seen));
        }
        var done = await Task.WhenAny(seen.Task, _process.WaitForExitAsync(), Task.Delay(timeout));
        if (done == seen.Task) return await seen.Task;
        if (_process.HasExited)
        {
            // Its last lines may still be on their way from the output readers: let them arrive, then look again.
            _process.WaitForExit();
            lock (_lines)
            {
                _waiters.RemoveAll(w => w.Seen == seen);
                var found = _lines.Select(l => l[5..]).FirstOrDefault(match);
                if (found is not null) return found;
            }
        }
        throw new TimeoutException($"{Name}: expected {expected} within {timeout.TotalSeconds} s; {(_process.HasExited ? $"it exited with {_process.ExitCode}" : "it is still running")}. Output:\n{string.Join('\n', Lines.TakeLast(40))}");
    }

    public async Task<int> WaitForExit(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name}: expected it to exit within {timeout.TotalSeconds} s. Output:\n{string.Join('\n', Lines.TakeLast(40))}");
        }
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    /// <summary>Sends a POSIX signal (SIGSTOP, SIGCONT...).</summary>
    public void Signal(int signal)
    {
        if (Signals.Send(_process.Id, signal) != 0) throw new InvalidOperationException($"{Name}: kill({_process.Id}, {signal}) failed");
    }

    /// <summary>SIGKILL: no drain, no goodbye.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
    }

    public void Dispose()
    {
        Kill();
        _process.WaitForExit(10_000); // a killed process is gone at once; its files are free to delete after this
        _process.Dispose();
    }
}
