using Microsoft.Extensions.Configuration;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>Silo configuration: appsettings/environment keys, flag overrides, and fail-fast errors naming the setting.</summary>
public sealed class SiloOptionsTests
{
    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Fact]
    public void ConfigurationIsReadAndFlagsWin()
    {
        var options = OrleansInferSilo.LoadOptions(
            Config(("OrleansInfer:Model", SharedData.Stories260KGguf), ("OrleansInfer:SiloPort", "12000"), ("OrleansInfer:GatewayPort", "31000"), ("OrleansInfer:Clustering", "Redis"), ("OrleansInfer:Redis", "db:6379"),
                ("OrleansInfer:HttpPort", "8080"), ("OrleansInfer:HttpHost", "0.0.0.0"), ("OrleansInfer:ExportTelemetry", "false")),
            o => o.GatewayPort = 32000);
        Assert.Equal(12000, options.SiloPort);
        Assert.Equal(8080, options.HttpPort);
        Assert.Equal("0.0.0.0", options.HttpHost);
        Assert.False(options.ExportTelemetry);
        Assert.Equal(32000, options.GatewayPort);
        Assert.Equal(ClusteringKind.Redis, options.Clustering);
        Assert.Equal("stories260K", options.ResolvedModelId);
    }

    [Fact]
    public void TheHttpPortIsOffAndTelemetryOnByDefault()
    {
        var options = OrleansInferSilo.LoadOptions(Config(("OrleansInfer:Model", SharedData.Stories260KGguf)));
        Assert.Null(options.HttpPort);
        Assert.Equal("127.0.0.1", options.HttpHost);
        Assert.True(options.ExportTelemetry);
    }

    [Theory]
    [InlineData("OrleansInfer:Model", "", "")]
    [InlineData("OrleansInfer:Model", "OrleansInfer:Model", "/no/such/model.gguf")]
    [InlineData("OrleansInfer:Redis", "OrleansInfer:Clustering", "Redis")]
    [InlineData("OrleansInfer:GatewayPort", "OrleansInfer:GatewayPort", "70000")]
    [InlineData("OrleansInfer:BlockSize", "OrleansInfer:BlockSize", "0")]
    [InlineData("OrleansInfer:Backend", "OrleansInfer:Backend", "tpu")]
    [InlineData("OrleansInfer:RoutingPolicy", "OrleansInfer:RoutingPolicy", "random")]
    [InlineData("OrleansInfer:PlacementWait", "OrleansInfer:PlacementWait", "-00:00:01")]
    [InlineData("OrleansInfer:MaxConsecutiveFailures", "OrleansInfer:MaxConsecutiveFailures", "0")]
    [InlineData("OrleansInfer:HttpPort", "OrleansInfer:HttpPort", "70000")]
    [InlineData("OrleansInfer:HttpPort", "OrleansInfer:HttpPort", "11111")]
    [InlineData("OrleansInfer:HttpHost", "OrleansInfer:HttpHost", "pod.example")]
    [InlineData("OrleansInfer:KvCacheDtype", "OrleansInfer:KvCacheDtype", "q4_0")]
    public void InvalidSettingsFailNamingTheSetting(string named, string key, string value)
    {
        var pairs = new List<(string, string)>();
        if (named != "OrleansInfer:Model") pairs.Add(("OrleansInfer:Model", SharedData.Stories260KGguf));
        if (key.Length > 0) pairs.Add((key, value));
        var e = Assert.Throws<SiloConfigurationException>(() => OrleansInferSilo.LoadOptions(Config([.. pairs])));
        Assert.Equal(named, e.Setting);
        Assert.StartsWith(named, e.Message);
    }

    [Fact]
    public void AChatTemplateMustExistAndParse()
    {
        var missing = Assert.Throws<SiloConfigurationException>(() => OrleansInferSilo.LoadOptions(Config(("OrleansInfer:Model", SharedData.Stories260KGguf), ("OrleansInfer:ChatTemplate", "/no/such.jinja"))));
        Assert.Equal("OrleansInfer:ChatTemplate file not found: /no/such.jinja", missing.Message);

        var path = TestChatTemplates.WriteFile("{% for m in messages %}\n{{ m.content }");
        try
        {
            var bad = Assert.Throws<SiloConfigurationException>(() => OrleansInferSilo.LoadOptions(Config(("OrleansInfer:Model", SharedData.Stories260KGguf), ("OrleansInfer:ChatTemplate", path))));
            Assert.Equal("OrleansInfer:ChatTemplate", bad.Setting);
            Assert.StartsWith($"OrleansInfer:ChatTemplate {path}: template syntax error at line 2, column", bad.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AValueOfTheWrongTypeNamesItsKey()
    {
        var e = Assert.Throws<SiloConfigurationException>(() => OrleansInferSilo.LoadOptions(Config(("OrleansInfer:Model", SharedData.Stories260KGguf), ("OrleansInfer:SiloPort", "eleven"))));
        Assert.Contains("OrleansInfer:SiloPort", e.Message);
    }

    [Theory]
    [InlineData("OrleansInfer:Model", "silo", "--model", "/no/such/model.gguf")]
    [InlineData("OrleansInfer:Redis", "silo", "--model", "MODEL", "--clustering", "redis")]
    [InlineData("OrleansInfer:HttpPort must be a TCP port other than the silo and gateway ports, got 30000", "silo", "--model", "MODEL", "--http-port", "30000")]
    [InlineData("OrleansInfer:HttpHost must be an IP address or localhost, got 'any'", "silo", "--model", "MODEL", "--http-port", "8080", "--http-host", "any")]
    public async Task TheSiloCommandFailsFastWithTheSettingsName(string named, params string[] args)
    {
        args = args.Select(a => a == "MODEL" ? SharedData.Stories260KGguf : a).ToArray();
        var error = new StringWriter();
        var code = await Cli.CliApp.RunAsync(args, new StringWriter(), error);
        Assert.Equal(2, code);
        Assert.Contains($"invalid configuration: {named}", error.ToString());
        Assert.Single(error.ToString().Trim().Split('\n'));
    }
}
