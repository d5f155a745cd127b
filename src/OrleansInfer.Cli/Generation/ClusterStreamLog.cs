using OrleansInfer.Abstractions;
using OrleansInfer.Client;

namespace OrleansInfer.Cli.Generation;

/// <summary>
/// stderr notes of `generate --cluster`: where each prompt got its first token, and each failure, hand-off or
/// gateway loss it recovered from (drills and operators read them).
/// </summary>
internal sealed class ClusterStreamLog(TextWriter error)
{
    public PromptWatcher For(int index) => new(this, index);

    private void Write(string line)
    {
        lock (error) error.WriteLine(line);
    }

    internal sealed class PromptWatcher(ClusterStreamLog log, int index)
    {
        private string? _worker;
        private int _received;

        public void Received(TokenChunk chunk)
        {
            if (chunk.Worker != _worker)
            {
                log.Write(_worker is null
                    ? $"[cluster] prompt {index}: first token from worker {chunk.Worker}"
                    : $"[cluster] prompt {index}: resumed on worker {chunk.Worker} after {_received} token(s)");
                _worker = chunk.Worker;
            }
            _received += chunk.TokenIds.Length;
        }

        public void Recovered(StreamRecovery r) => log.Write(r.Kind switch
        {
            RecoveryKind.Moved => $"[cluster] prompt {index}: worker {r.Worker} handed it off after {r.TokensDelivered} token(s) ({r.Error.Message})",
            RecoveryKind.PlacementRetried => $"[cluster] prompt {index}: no worker yet ({r.Error.GetType().Name}: {r.Error.Message.Split('\n')[0]}); retrying",
            RecoveryKind.Reattached => $"[cluster] prompt {index}: re-attached to worker {r.Worker} through another gateway after {r.TokensDelivered} token(s)",
            _ => $"[cluster] prompt {index}: worker {r.Worker} failed after {r.TokensDelivered} token(s) ({r.Error.GetType().Name}: {r.Error.Message.Split('\n')[0]}); resuming elsewhere",
        });
    }
}
