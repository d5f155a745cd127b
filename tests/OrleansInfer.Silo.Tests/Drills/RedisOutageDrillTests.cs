using Orleans.Runtime;
using OrleansInfer.Client;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>
/// The Redis server holding the membership table is killed mid-run and restarted empty: running streams complete;
/// requests made during the outage succeed (a client already connected) or fail with a typed one-line error (a new
/// client that cannot read the gateway list); after the restart the silos put themselves back in the table and
/// everything works, new clients included.
/// </summary>
[Collection(nameof(DrillCollection))]
public sealed class RedisOutageDrillTests() : DrillTest(maxTokens: 160, ignoreEos: true)
{
    [Fact]
    public async Task StreamsAndClientsSurviveARedisRestartThatLosesTheTable()
    {
        using var redis = new PrivateRedis(Folder);
        await redis.StartAsync();
        await using var cluster = new DrillCluster(redis.Address, stepDelayMs: 40);
        await cluster.StartAsync(2);

        var generate = await StartGenerateAsync(cluster);

        redis.Kill();

        // During the outage: a connected client is served as before.
        var reference = SharedData.Reference.Cases[0];
        var during = await ServeOne(cluster, reference.PromptTokenIds).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(reference.GeneratedTokenIds, during);

        // A new client cannot read the gateway list: it works anyway or says so in one line (exit 1), never hangs or crashes.
        var fresh = cluster.Start("generate-during-outage", "generate", "--cluster", cluster.Address, "--prompt", reference.Prompt, "--temperature", "0", "--max-tokens", "64", "--json");
        var freshExit = await fresh.WaitForExit(TimeSpan.FromSeconds(120));
        if (freshExit == 0) Assert.Equal(reference.GeneratedTokenIds, DrillWorkload.TokenIds(fresh.Output).Single());
        else
        {
            Assert.Equal(1, freshExit);
            var errors = fresh.Lines.Where(l => l.StartsWith("err: orleans-infer:", StringComparison.Ordinal)).ToList();
            Assert.True(errors.Count == 1 && errors[0].Contains("cannot reach the cluster"), $"expected one line saying the cluster cannot be reached:\n{string.Join('\n', fresh.Lines)}");
        }

        await redis.StartAsync(); // same port, empty: the membership table is gone
        await WaitForMembershipAsync(cluster, expectedSilos: 2, TimeSpan.FromSeconds(90));

        var after = cluster.Start("generate-after-restart", "generate", "--cluster", cluster.Address, "--prompt", reference.Prompt, "--temperature", "0", "--max-tokens", "64", "--json");
        Assert.True(await after.WaitForExit(TimeSpan.FromSeconds(120)) == 0, $"generate after the restart failed:\n{string.Join('\n', after.Lines)}");
        Assert.Equal(reference.GeneratedTokenIds, DrillWorkload.TokenIds(after.Output).Single());

        // The client connected before the outage still streams through the router afterwards.
        Assert.Equal(reference.GeneratedTokenIds, await ServeOne(cluster, reference.PromptTokenIds).WaitAsync(TimeSpan.FromSeconds(60)));

        await AssertCompletesAsync(generate);
        // No leaked blocks, asked through a client of the restarted table: one connected before the outage may
        // intermittently not reach one silo's worker directly (see the closing note of the gateway issue).
        using var restartedClient = await ClusterEndpoint.Parse(cluster.Address).ConnectAsync();
        await cluster.AssertFreeKvReturnsAsync(cluster.Silos, TimeSpan.FromSeconds(60), ClusterEndpoint.Client(restartedClient));
    }

    private static async Task<int[]> ServeOne(DrillCluster cluster, int[] prompt)
    {
        var request = new Abstractions.GenerateRequest
        {
            RequestId = Guid.NewGuid().ToString("N"),
            PromptTokens = prompt,
            Sampling = new Abstractions.SamplingSpec { Temperature = 0, MaxTokens = 64 },
        };
        var tokens = new List<int>();
        await foreach (var c in new ClusterStreamClient(cluster.Client).GenerateAsync(DrillCluster.ModelId, request)) tokens.AddRange(c.TokenIds);
        return [.. tokens];
    }

    /// <summary>Waits until a new client can connect through the restarted table and sees the expected active silos.</summary>
    private static async Task WaitForMembershipAsync(DrillCluster cluster, int expectedSilos, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var host = await ClusterEndpoint.Parse(cluster.Address).ConnectAsync().WaitAsync(TimeSpan.FromSeconds(20));
                var hosts = await ClusterEndpoint.Client(host).GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(10));
                if (hosts.Count == expectedSilos) return;
                last = $"{hosts.Count} active silo(s)";
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                last = $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
            }
            await Task.Delay(500);
        }
        throw new TimeoutException($"expected a new client to connect and see {expectedSilos} active silos within {timeout.TotalSeconds} s; last: {last}\n{cluster.DescribeSilos()}");
    }
}
