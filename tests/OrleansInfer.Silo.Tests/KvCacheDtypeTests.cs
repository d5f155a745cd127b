using Microsoft.Extensions.Configuration;
using OrleansInfer.Engine.Runner;
using OrleansInfer.Testing;

namespace OrleansInfer.Silo.Tests;

/// <summary>The silo's KvCacheDtype setting: read from configuration, passed to the workers' runners, checked against the model.</summary>
public sealed class KvCacheDtypeTests
{
    [Fact]
    public void ConfigurationChoosesTheEncodingOfTheWorkersKvPools()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([
            new("OrleansInfer:Model", SharedData.Stories260KGguf), new("OrleansInfer:KvCacheDtype", "F16")]).Build();
        var options = OrleansInferSilo.LoadOptions(configuration) with { Backend = "cpu", Threads = 1, KvBlocks = 8 };
        Assert.Equal(KvCacheDataType.F16, options.KvCacheDataType);
        using var model = OrleansInfer.Model.ModelFile.Open(SharedData.Stories260KGguf);
        using var cpu = WorkerEngines.CpuRunner(model, 0, options);
        Assert.Equal(KvCacheDataType.F16, cpu.KvCache.DataType);
        Assert.Equal(KvCacheInfo.BytesPerToken(model.Config!, sizeof(float)) / 2, cpu.KvCache.TokenBytes);
    }

    [Fact]
    public void Q8OnAModelWithSmallHeadsNamesTheSetting()
    {
        var e = Assert.Throws<SiloConfigurationException>(() => new WorkerEngines(new SiloOptions { Model = SharedData.Stories260KGguf, Backend = "cpu", Threads = 1, KvBlocks = 8, KvCacheDtype = "q8_0" }));
        Assert.Equal("OrleansInfer:KvCacheDtype", e.Setting);
        Assert.Contains("head size is 8", e.Message);
    }
}
