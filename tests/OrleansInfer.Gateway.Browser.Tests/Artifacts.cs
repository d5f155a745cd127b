namespace OrleansInfer.Gateway.Browser.Tests;

/// <summary>Where the tests leave what a person may want to look at: ORLEANSINFER_TEST_ARTIFACTS, else TestResults/ beside the test assembly.</summary>
internal static class Artifacts
{
    public static string PathOf(string name)
    {
        var directory = Environment.GetEnvironmentVariable("ORLEANSINFER_TEST_ARTIFACTS") is { Length: > 0 } d
            ? d
            : Path.Combine(AppContext.BaseDirectory, "TestResults");
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, name);
    }
}
