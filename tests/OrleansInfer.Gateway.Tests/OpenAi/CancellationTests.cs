using System.Net.Http.Json;

namespace OrleansInfer.Gateway.Tests.OpenAi;

/// <summary>A client that goes away cancels its generation (the token given to the cluster), streamed or not.</summary>
public sealed class CancellationTests
{
    [Fact]
    public async Task AClientGoneCancelsTheGeneration()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fake = new FakeCluster { Generate = (r, ct) => Endless(ct, cancelled) };
        var (app, http) = await fake.StartGatewayAsync();
        await using var host = app;
        using var client = http;

        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = JsonContent.Create(new { prompt = "a", stream = true, max_tokens = 100 }) })
        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
        }
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));

        cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var giveUp = new CancellationTokenSource();
        var call = http.PostAsJsonAsync("/v1/completions", new { prompt = "a", max_tokens = 100 }, giveUp.Token);
        while (fake.Requests.Count < 2) await Task.Delay(10);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static async IAsyncEnumerable<Abstractions.TokenChunk> Endless([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct, TaskCompletionSource cancelled)
    {
        using var registration = ct.Register(() => cancelled.TrySetResult());
        yield return FakeCluster.Token("Hi");
        await Task.Delay(Timeout.Infinite, ct);
    }
}
