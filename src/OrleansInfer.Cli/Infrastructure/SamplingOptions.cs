using System.CommandLine;
using OrleansInfer.Engine;
using OrleansInfer.Engine.Sampling;

namespace OrleansInfer.Cli.Infrastructure;

/// <summary>The sampling options of `generate`, mapped to <see cref="SamplingParams"/> (defaults as llama.cpp's CLI).</summary>
internal sealed class SamplingOptions
{
    private readonly Option<int> _maxTokens = new("--max-tokens", "-n") { Description = "Most tokens to generate per output", DefaultValueFactory = _ => 128 };
    private readonly Option<float> _temperature = new("--temperature") { Description = "Sampling temperature; 0 is greedy", DefaultValueFactory = _ => 0.8f };
    private readonly Option<int> _topK = new("--top-k") { Description = "Keep the K most likely tokens (0: all)", DefaultValueFactory = _ => 40 };
    private readonly Option<float> _topP = new("--top-p") { Description = "Nucleus sampling mass in (0, 1]", DefaultValueFactory = _ => 0.95f };
    private readonly Option<float> _minP = new("--min-p") { Description = "Drop tokens below this fraction of the top probability", DefaultValueFactory = _ => 0.05f };
    private readonly Option<float> _repetition = new("--repetition-penalty") { Description = "Penalty for tokens of the prompt and output (1: off)", DefaultValueFactory = _ => 1f };
    private readonly Option<float> _presence = new("--presence-penalty") { Description = "Subtracted from tokens already generated" };
    private readonly Option<float> _frequency = new("--frequency-penalty") { Description = "Subtracted per earlier occurrence in the output" };
    private readonly Option<ulong?> _seed = new("--seed") { Description = "Seed for reproducible sampling" };
    private readonly Option<bool> _ignoreEos = new("--ignore-eos") { Description = "Keep generating past the end-of-sequence token" };
    private readonly Option<int> _n = new("--n") { Description = "Outputs per prompt", DefaultValueFactory = _ => 1 };
    private readonly Option<int?> _bestOf = new("--best-of") { Description = "Generate this many and return the n most likely" };
    private readonly Option<int> _beamWidth = new("--beam-width") { Description = "Beam search with this many beams (needs --temperature 0)" };
    private readonly Option<float> _lengthPenalty = new("--length-penalty") { Description = "Beam score = log-probability / length^penalty", DefaultValueFactory = _ => 1f };
    private readonly Option<bool> _earlyStopping = new("--early-stopping") { Description = "End beam search once beam-width hypotheses finished" };
    private readonly Option<string[]> _stop = new("--stop") { Description = "Stop string (repeatable); not included in the output" };
    private readonly Option<int[]> _stopTokens = new("--stop-token-id") { Description = "Token id that ends an output (repeatable)" };
    private readonly Option<int?> _logprobs = new("--logprobs") { Description = "Report the top N log-probabilities of each generated token" };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { _maxTokens, _temperature, _topK, _topP, _minP, _repetition, _presence, _frequency, _seed, _ignoreEos, _n, _bestOf, _beamWidth, _lengthPenalty, _earlyStopping, _stop, _stopTokens, _logprobs })
            command.Options.Add(o);
    }

    /// <summary>Reads and validates; a bad value is a <see cref="CliException"/> naming the option.</summary>
    public SamplingParams Read(ParseResult r)
    {
        var p = new SamplingParams
        {
            MaxTokens = r.GetValue(_maxTokens),
            Temperature = r.GetValue(_temperature),
            TopK = r.GetValue(_topK),
            TopP = r.GetValue(_topP),
            MinP = r.GetValue(_minP),
            RepetitionPenalty = r.GetValue(_repetition),
            PresencePenalty = r.GetValue(_presence),
            FrequencyPenalty = r.GetValue(_frequency),
            Seed = r.GetValue(_seed),
            IgnoreEos = r.GetValue(_ignoreEos),
            N = r.GetValue(_n),
            BestOf = r.GetValue(_bestOf),
            BeamWidth = r.GetValue(_beamWidth),
            LengthPenalty = r.GetValue(_lengthPenalty),
            EarlyStopping = r.GetValue(_earlyStopping),
            Stop = r.GetValue(_stop) ?? [],
            StopTokenIds = r.GetValue(_stopTokens) ?? [],
            Logprobs = r.GetValue(_logprobs),
        };
        try
        {
            return p.Validate();
        }
        catch (InvalidRequestException e)
        {
            throw new CliException($"invalid --{OptionName(e.Field)}: {e.Reason}");
        }
    }

    /// <summary>The CLI option behind a request field named in an <see cref="InvalidRequestException"/>.</summary>
    public static string OptionName(string field) => field switch
    {
        "stop_token_ids" => "stop-token-id",
        _ => field.Replace('_', '-'),
    };
}
