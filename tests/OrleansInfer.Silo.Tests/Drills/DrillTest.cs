namespace OrleansInfer.Silo.Tests;

/// <summary>
/// What every fault drill shares: a scratch folder, the 60-prompt workload with its single-process reference, and a
/// `generate --cluster` run started and waited on until every prompt has its first token (tokens are flowing).
/// </summary>
[Collection(nameof(DrillCollection))]
public abstract class DrillTest(int maxTokens, bool ignoreEos) : IAsyncLifetime
{
    protected string Folder { get; } = Directory.CreateTempSubdirectory("orleans-infer-drill-").FullName;

    protected DrillWorkload Workload { get; private set; } = null!;

    public async Task InitializeAsync() => Workload = await DrillWorkload.CreateAsync(Folder, maxTokens, ignoreEos);

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Starts `generate --cluster` on the workload and returns once every prompt has had its first token.</summary>
    protected async Task<ChildProcess> StartGenerateAsync(DrillCluster cluster)
    {
        var generate = cluster.Start("generate", ["generate", "--cluster", cluster.Address, .. Workload.GenerateFlags]);
        for (var i = 0; i < DrillWorkload.Prompts.Count; i++)
        {
            var prompt = i;
            await generate.WaitForLine(l => l.Contains($"prompt {prompt}: first token from worker"), TimeSpan.FromSeconds(120), $"prompt {prompt}'s first token");
        }
        return generate;
    }

    /// <summary>Waits for the generate run to exit 0 with exactly the reference outputs, each once, in order.</summary>
    protected async Task AssertCompletesAsync(ChildProcess generate)
    {
        var exit = await generate.WaitForExit(TimeSpan.FromSeconds(240));
        Assert.True(exit == 0, $"generate --cluster exited {exit}:\n{string.Join('\n', generate.Lines.TakeLast(40))}");
        Workload.AssertOutputs(generate);
    }
}
