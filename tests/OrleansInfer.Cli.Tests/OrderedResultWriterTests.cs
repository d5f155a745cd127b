using OrleansInfer.Abstractions;
using OrleansInfer.Cli.Generation;
using OrleansInfer.Client;
using OrleansInfer.Engine.Generation;
using OrleansInfer.Engine.Outputs;

namespace OrleansInfer.Cli.Tests;

/// <summary>
/// `generate` output order: each result is written as soon as it and every result before it are done, a prompt that
/// finally failed gets its error in its place, and nothing that finished is lost to a later failure.
/// </summary>
public sealed class OrderedResultWriterTests
{
    private static GenerationResult Result(params int[] tokens) =>
        new([1, 2], [new GenerationOutput(0, tokens, string.Concat(tokens.Select(t => $"<{t}>")), FinishReason.Length, 0, null)], new UsageInfo(2, tokens.Length, 0));

    [Fact]
    public async Task ResultsAreWrittenInInputOrderAsSoonAsTheyCanBe()
    {
        // Results are set off the test's synchronization context, where continuations run inline: once a result is
        // set, whatever it lets the writer write has been written.
        var done = Enumerable.Range(0, 3).Select(_ => new TaskCompletionSource<GenerationResult>()).ToArray();
        var output = new StringWriter();
        var error = new StringWriter();
        var writing = OrderedResultWriter.WriteAsync(["a", "b", "c"], done.Select(d => d.Task).ToList(), asJson: true, output, error);

        await Task.Run(() => done[1].SetResult(Result(5)));
        Assert.Equal("", output.ToString()); // prompt 1 waits for prompt 0
        await Task.Run(() => done[0].SetException(new ClusterStreamFailedException("request x failed on 9 workers; last error: boom", new InvalidOperationException("boom"))));
        Assert.Equal(2, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        await Task.Run(() => done[2].SetResult(Result(7, 8)));
        var (exitCode, completion) = await writing.WaitAsync(TimeSpan.FromSeconds(10));

        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, lines.Count);
        Assert.Equal(0, lines[0].GetProperty("index").GetInt32());
        Assert.Equal("a", lines[0].GetProperty("prompt").GetString());
        Assert.Equal("worker_failed", lines[0].GetProperty("error").GetProperty("type").GetString());
        Assert.StartsWith("request x failed on 9 workers", lines[0].GetProperty("error").GetProperty("message").GetString());
        Assert.Equal([5], lines[1].Ints("token_ids"));
        Assert.Equal([7, 8], lines[2].Ints("token_ids"));
        Assert.Equal(1, exitCode);
        Assert.Equal(3, completion);
        Assert.Contains("1 of 3 prompt(s) failed", error.ToString());
    }

    [Fact]
    public async Task InTextModeAFailedPromptIsNamedOnStderr()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (exitCode, _) = await OrderedResultWriter.WriteAsync(["a", "b"],
            [Task.FromResult(Result(3)), Task.FromException<GenerationResult>(new ClusterRejectedException(ClusterRejection.NoCapacity, "the cluster is full"))],
            asJson: false, output, error);
        Assert.Equal("a<3>\n\n", output.ToString().Replace("\r", ""));
        Assert.Equal("orleans-infer: prompt 1 failed (no_capacity): the cluster is full: the cluster is full", error.ToString().Trim());
        Assert.Equal(1, exitCode);
    }

    [Fact]
    public async Task OnlyInvalidPromptsExitWithTwo()
    {
        var output = new StringWriter();
        var (exitCode, _) = await OrderedResultWriter.WriteAsync(["a", "b"],
            [Task.FromResult(Result(3)), Task.FromException<GenerationResult>(new ClusterRejectedException(ClusterRejection.InvalidRequest, "200 tokens do not fit"))],
            asJson: true, output, new StringWriter());
        Assert.Equal(2, exitCode);
        Assert.Contains("\"type\":\"invalid_request\"", output.ToString());
    }
}
