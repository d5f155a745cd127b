using Microsoft.Extensions.Configuration;
using Orleans.Dashboard;

namespace OrleansInfer.Gateway.StatusPage;

/// <summary>
/// A service provider that answers the Orleans Dashboard's own types (and generics over them, e.g.
/// <c>IOptions&lt;DashboardOptions&gt;</c>) from the Orleans container and everything else from the gateway's.
/// </summary>
internal sealed class DashboardServices(IServiceProvider gateway, IServiceProvider orleans) : IServiceProvider
{
    private static readonly System.Reflection.Assembly Dashboard = typeof(DashboardOptions).Assembly;

    /// <summary>
    /// The types the dashboard's endpoints resolve, as <c>AddDashboard()</c> on a client registers them (most are
    /// internal to the package, so they are learnt from a throwaway registration rather than named).
    /// </summary>
    private static readonly Lazy<Type[]> Required = new(() =>
    {
        var probe = new ProbeClientBuilder();
        probe.AddDashboard();
        return [.. probe.Services.Select(d => d.ServiceType).Where(IsDashboardType).Distinct()];
    });

    public object? GetService(Type serviceType) => IsDashboardType(serviceType) ? orleans.GetService(serviceType) : gateway.GetService(serviceType);

    /// <summary>True when <paramref name="services"/> holds what the dashboard's endpoints need.</summary>
    public static bool AreIn(IServiceProvider services) =>
        services.GetService<IServiceProviderIsService>() is { } known && Required.Value.Length > 0 && Required.Value.All(known.IsService);

    private static bool IsDashboardType(Type type) =>
        type.Assembly == Dashboard || (type.IsConstructedGenericType && type.GenericTypeArguments.Any(a => a.Assembly == Dashboard));

    private sealed class ProbeClientBuilder : IClientBuilder
    {
        public IServiceCollection Services { get; } = new ServiceCollection();
        public IConfiguration Configuration { get; } = new ConfigurationBuilder().Build();
    }
}
