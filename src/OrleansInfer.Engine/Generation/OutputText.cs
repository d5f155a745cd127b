using System.Text;
using OrleansInfer.Model.Tokenization;

namespace OrleansInfer.Engine.Generation;

/// <summary>
/// The text of one output as it is generated: detokenized token by token, with stop strings matched across token
/// boundaries. Text that could still be the start of a stop string is held back, so a stop string is never sent
/// and then taken back; the text ends just before the stop string.
/// </summary>
internal sealed class OutputText(Tokenizer tokenizer, int previousToken, IReadOnlyList<string> stops)
{
    private readonly StreamingDetokenizer _detokenizer = tokenizer.CreateStreamingDetokenizer(previousToken);
    private readonly StringBuilder _text = new();
    private readonly int _holdBack = stops.Count == 0 ? 0 : stops.Max(s => s.Length) - 1;
    private int _emitted;
    private int _searched;

    public string Text => _text.ToString();

    /// <summary>Adds a token; returns the text now safe to send and whether a stop string ended the output.</summary>
    public (string Delta, bool Stopped) Append(int token) => Add(_detokenizer.Append(token), final: false);

    /// <summary>Ends the output: returns everything still held back.</summary>
    public string Finish() => Add(_detokenizer.Flush(), final: true).Delta;

    private (string Delta, bool Stopped) Add(string piece, bool final)
    {
        _text.Append(piece);
        if (stops.Count > 0)
        {
            var cut = FindStop();
            if (cut >= 0)
            {
                _text.Length = cut;
                return (Take(cut), true);
            }
        }
        return (Take(final ? _text.Length : Math.Max(_emitted, _text.Length - _holdBack)), false);
    }

    private int FindStop()
    {
        // Only text not searched before can complete a stop string (plus the stop's length - 1 before it).
        var from = Math.Max(0, _searched - _holdBack);
        var tail = _text.ToString(from, _text.Length - from);
        _searched = _text.Length;
        var best = -1;
        foreach (var s in stops)
        {
            var i = tail.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best < 0 ? -1 : from + best;
    }

    private string Take(int upTo)
    {
        if (upTo <= _emitted) return string.Empty;
        var delta = _text.ToString(_emitted, upTo - _emitted);
        _emitted = upTo;
        return delta;
    }
}
