using OrleansInfer.Abstractions;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Client;

/// <summary>Finding the model a cluster serves and its tokenizer, as a client.</summary>
public static class ClusterModels
{
    /// <summary>The requested model id, or the cluster's only model when none is named.</summary>
    /// <exception cref="InvalidOperationException">No model, an unknown one, or several to choose from.</exception>
    public static async Task<string> ResolveAsync(IGrainFactory grains, string? requested, CancellationToken cancellationToken = default)
    {
        var catalog = grains.GetGrain<IModelCatalogGrain>(0);
        string[] models = [];
        // Right after the silos start, workers register within a report period or two; right after a failure the
        // catalog may be re-activating: retry for a few seconds.
        for (var wait = 100; wait <= 3200; wait *= 2)
        {
            try
            {
                models = await catalog.List().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
                if (models.Length > 0 && (requested is null || models.Contains(requested))) break;
            }
            catch (Exception e) when (e is not OperationCanceledException && wait < 3200)
            {
            }
            await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
        if (models.Length == 0) throw new InvalidOperationException("the cluster serves no model (no worker has registered)");
        if (requested is not null)
            return models.Contains(requested) ? requested : throw new InvalidOperationException($"the cluster does not serve model '{requested}' (it serves: {string.Join(", ", models)})");
        return models.Length == 1 ? models[0] : throw new InvalidOperationException($"the cluster serves several models; name one with --model: {string.Join(", ", models)}");
    }

    /// <summary>The tokenizer of <paramref name="modelId"/>, fetched from one of its workers.</summary>
    public static async Task<Tokenizer> TokenizerAsync(IGrainFactory grains, string modelId)
    {
        var router = grains.GetGrain<IRouterGrain>(modelId);
        await router.WaitForWorkers(1, TimeSpan.FromSeconds(10)).WaitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
        var workers = await router.GetWorkers().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        Exception? last = null;
        foreach (var w in workers)
        {
            try
            {
                return Tokenizer.Create(FromWire(await grains.GetGrain<IWorkerGrain>(w.WorkerKey).GetVocabulary().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false)));
            }
            catch (Exception e) when (e is not ArgumentException)
            {
                last = e;
            }
        }
        throw new InvalidOperationException($"no worker of model '{modelId}' could give its vocabulary", last);
    }

    public static Vocabulary FromWire(VocabularyData d) => new()
    {
        Kind = d.Model == "gpt2" ? TokenizerKind.ByteLevelBpe : TokenizerKind.SentencePiece,
        PreTokenizer = d.PreTokenizer,
        Tokens = d.Tokens,
        Scores = d.Scores.Length == d.Tokens.Length ? d.Scores : new float[d.Tokens.Length],
        Types = d.Types.Length == d.Tokens.Length ? d.Types.Select(t => (TokenType)t).ToArray() : Enumerable.Repeat(TokenType.Normal, d.Tokens.Length).ToArray(),
        Merges = d.Merges,
        BosId = d.BosId,
        EosId = d.EosId,
        UnknownId = d.UnknownId,
        PaddingId = d.PaddingId,
        EotId = d.EotId,
        AddBos = d.AddBos,
        AddEos = d.AddEos,
        AddSpacePrefix = d.AddSpacePrefix,
        ChatTemplate = d.ChatTemplate,
    };
}
