namespace OrleansInfer.Engine.Outputs;

/// <summary>
/// A request ended because the engine step it was part of failed: the model runner threw (every request of the
/// step ends with it), or postprocessing its output did (sampling, detokenizing, chunking). The engine itself goes on
/// serving the other requests; the request can be resubmitted, here or elsewhere.
/// </summary>
public sealed class EngineFaultException : InvalidOperationException
{
    /// <summary>The <see cref="Stage"/> of a failed forward pass.</summary>
    public const string RunnerStage = "runner";

    /// <summary>The <see cref="Stage"/> of a failure after the forward pass (sampling or output processing).</summary>
    public const string PostprocessStage = "postprocess";

    public EngineFaultException(string stage, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Stage = stage;
    }

    /// <summary>Where the step failed: <see cref="RunnerStage"/> or <see cref="PostprocessStage"/>.</summary>
    public string Stage { get; }

    internal static EngineFaultException Runner(Exception e) => new(RunnerStage, $"the model runner failed: {e.Message}", e);

    internal static EngineFaultException Postprocess(Exception e) => new(PostprocessStage, $"postprocessing failed: {e.Message}", e);
}
