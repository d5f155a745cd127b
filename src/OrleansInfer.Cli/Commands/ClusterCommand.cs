using System.CommandLine;
using OrleansInfer.Abstractions;
using OrleansInfer.Cli.Infrastructure;
using OrleansInfer.Client;

namespace OrleansInfer.Cli.Commands;

/// <summary>`cluster status`: where a model's router runs and what it sees of each worker (free KV, load, health).</summary>
internal static class ClusterCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var cluster = new Option<string>("--cluster") { Description = "localhost[:PORT[,PORT...]] or redis://HOST:PORT[/CLUSTER_ID]", Required = true };
        var model = new Option<string?>("--model") { Description = "The model id (default: the cluster's only one)" };
        var json = CommonOptions.Json();
        var status = new Command("status", "Show a model's router and its workers");
        foreach (var o in new Option[] { cluster, model, json }) status.Options.Add(o);
        status.SetAction(async (r, ct) =>
        {
            await using var connection = await ClusterConnection.OpenAsync(r.GetValue(cluster)!, null, error, ct);
            string modelId;
            try
            {
                modelId = await ClusterModels.ResolveAsync(connection.Grains, r.GetValue(model), ct);
            }
            catch (InvalidOperationException e)
            {
                throw new CliException(e.Message, ExitCodes.Failure);
            }
            var s = await connection.Grains.GetGrain<IRouterGrain>(modelId).GetStatus().WaitAsync(TimeSpan.FromSeconds(30), ct);
            if (r.GetValue(json)) output.WriteLine(ToJson(s));
            else Print(s, output);
            return ExitCodes.Ok;
        });

        var command = new Command("cluster", "Look at a running cluster");
        command.Subcommands.Add(status);
        return command;
    }

    private static void Print(RouterStatus s, TextWriter output)
    {
        output.WriteLine($"model '{s.ModelId}': router on {s.Silo}, policy {s.Policy}, {s.Workers.Length} worker(s)");
        foreach (var w in s.Workers)
        {
            var state = w.Draining ? "draining" : w.Healthy ? "healthy" : $"unhealthy: {w.HealthReason}";
            output.WriteLine($"  {w.WorkerKey}  {w.Device}  KV {w.FreeBlocks}/{w.TotalBlocks} blocks free  {w.RunningRequests} running  {w.WaitingRequests} waiting  {w.TokensPerSecond:F0} tok/s  {state}");
        }
    }

    private static string ToJson(RouterStatus s) => Json.Object(w =>
    {
        w.WriteString("model", s.ModelId);
        w.WriteString("router_silo", s.Silo);
        w.WriteString("policy", s.Policy);
        w.WriteStartArray("workers");
        foreach (var l in s.Workers)
        {
            w.WriteStartObject();
            w.WriteString("worker", l.WorkerKey);
            w.WriteString("device", l.Device);
            w.WriteNumber("total_blocks", l.TotalBlocks);
            w.WriteNumber("free_blocks", l.FreeBlocks);
            w.WriteNumber("running", l.RunningRequests);
            w.WriteNumber("waiting", l.WaitingRequests);
            w.WriteNumber("tokens_per_s", Math.Round(l.TokensPerSecond, 1));
            w.WriteBoolean("draining", l.Draining);
            w.WriteBoolean("healthy", l.Healthy);
            if (l.HealthReason is { } reason) w.WriteString("health_reason", reason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });
}
