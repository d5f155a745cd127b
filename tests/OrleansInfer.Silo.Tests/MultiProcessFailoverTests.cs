using System.Text.Json;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>
/// Two real `orleans-infer silo` processes clustered through Redis, four greedy prompts through
/// `generate --cluster`, and a SIGKILL of a silo that is serving some of them: every output equals the
/// single-process reference.
/// </summary>
public sealed class MultiProcessFailoverTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orleans-infer-mp-").FullName;
    private readonly List<ChildProcess> _processes = [];

    public void Dispose()
    {
        foreach (var p in _processes) p.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private ChildProcess Start(string name, params string[] args)
    {
        var p = new ChildProcess(name, args);
        _processes.Add(p);
        return p;
    }

    [Fact]
    public async Task TwoSilosOverRedisSurviveTheSigkillOfOne()
    {
        RedisServer.Require();
        var cases = SharedData.Reference.Cases;
        string[] prompts = [cases[0].Prompt, cases[1].Prompt, "Lily and Ben went to the park. They saw a big dog", "The little bird could not fly, so"];
        var promptsFile = Path.Combine(_folder, "four.jsonl");
        File.WriteAllLines(promptsFile, prompts.Select(p => JsonSerializer.Serialize(p)));

        // The fault-free reference: one process, no cluster.
        var single = new StringWriter();
        Assert.Equal(0, await Cli.CliApp.RunAsync(["generate", "--model", SharedData.Stories260KGguf, "--prompts-file", promptsFile, "--temperature", "0", "--max-tokens", "64", "--json", "--threads", "1"], single, new StringWriter()));
        var expected = single.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(TokenIds).ToList();
        Assert.Equal(cases[0].GeneratedTokenIds, expected[0]);
        Assert.Equal(cases[1].GeneratedTokenIds, expected[1]);

        var clusterId = $"test-{Guid.NewGuid():N}";
        var silos = new Dictionary<int, ChildProcess>();
        foreach (var name in new[] { "silo-a", "silo-b" })
        {
            int siloPort = RedisServer.FreePort(), gatewayPort = RedisServer.FreePort();
            silos[siloPort] = Start(name, "silo", "--model", SharedData.Stories260KGguf, "--clustering", "redis", "--redis", RedisServer.Address,
                "--cluster-id", clusterId, "--silo-port", $"{siloPort}", "--gateway-port", $"{gatewayPort}", "--threads", "1", "--step-delay-ms", "30");
        }
        foreach (var s in silos.Values) await s.WaitForLine(l => l.Contains("ready"), TimeSpan.FromSeconds(90), "a line containing 'ready'");

        var generate = Start("generate", "generate", "--cluster", $"redis://{RedisServer.Address}/{clusterId}", "--prompts-file", promptsFile,
            "--temperature", "0", "--max-tokens", "64", "--json");
        var firstTokens = new List<string>();
        for (var i = 0; i < prompts.Length; i++)
        {
            var prompt = i;
            firstTokens.Add(await generate.WaitForLine(l => l.Contains($"prompt {prompt}: first token from worker"), TimeSpan.FromSeconds(60), $"prompt {prompt}'s first token"));
        }

        // Kill the silo serving most prompts while their tokens are still flowing.
        var victimPort = firstTokens.Select(SiloPortOf).GroupBy(p => p).OrderByDescending(g => g.Count()).First().Key;
        silos[victimPort].Kill();

        var exit = await generate.WaitForExit(TimeSpan.FromSeconds(180));
        Assert.True(exit == 0, $"generate --cluster exited {exit}:\n{string.Join('\n', generate.Lines)}");
        var outputs = generate.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(TokenIds).ToList();
        Assert.Equal(prompts.Length, outputs.Count);
        for (var i = 0; i < prompts.Length; i++) Assert.Equal(expected[i], outputs[i]);
        Assert.Contains(generate.Lines, l => l.Contains("resumed on worker"));
    }

    private static int[] TokenIds(string jsonLine) =>
        JsonDocument.Parse(jsonLine).RootElement.GetProperty("token_ids").EnumerateArray().Select(t => t.GetInt32()).ToArray();

    /// <summary>"... first token from worker 127.0.0.1:PORT@GEN|0|model" → PORT.</summary>
    private static int SiloPortOf(string line)
    {
        var key = line[(line.IndexOf("worker ", StringComparison.Ordinal) + 7)..];
        var address = key[..key.IndexOf('@')];
        return int.Parse(address[(address.LastIndexOf(':') + 1)..]);
    }
}
