using Orleans.Dashboard;

namespace OrleansInfer.Gateway.StatusPage;

/// <summary>
/// The Orleans Dashboard under <c>/dashboard</c>. Its services live in the container of whatever runs Orleans (the
/// silo's in <c>serve</c>, the Orleans client host's in <c>gateway</c>, after <c>AddDashboard()</c> on that builder),
/// not in the gateway's WebApplication: <see cref="AddOrleansDashboardFrom"/> names that container, and the dashboard's
/// endpoints resolve the dashboard's own types from it and everything else from the gateway. Without dashboard
/// services nothing is mapped. The routes sit behind the API key like the rest of the gateway.
/// </summary>
public static class GatewayDashboard
{
    public const string RoutePrefix = "/dashboard";

    /// <summary>
    /// For <see cref="GatewayApp.Build"/>'s configure hook: the dashboard's services come from
    /// <paramref name="orleansServices"/> (an <c>IClusterClient</c>'s <c>ServiceProvider</c>: the silo's or the client host's).
    /// </summary>
    public static WebApplicationBuilder AddOrleansDashboardFrom(this WebApplicationBuilder builder, IServiceProvider orleansServices)
    {
        builder.Services.AddSingleton(new DashboardSource(orleansServices));
        return builder;
    }

    /// <summary>Maps the dashboard when its services are reachable (given by <see cref="AddOrleansDashboardFrom"/> or registered in the gateway itself).</summary>
    public static void MapOrleansDashboardWhenPresent(this WebApplication app)
    {
        var orleans = app.Services.GetService<DashboardSource>()?.Services ?? app.Services;
        if (!DashboardServices.AreIn(orleans))
        {
            if (app.Services.GetService<DashboardSource>() is not null)
                app.Logger.LogWarning("no Orleans Dashboard services in the cluster client's container (AddDashboard() missing): {Path} is not served", RoutePrefix);
            return;
        }
        var endpoints = new ForwardingEndpoints(app, new DashboardServices(app.Services, orleans));
        var stopping = app.Lifetime.ApplicationStopping;
        IEndpointConventionBuilder group = endpoints.MapOrleansDashboard(RoutePrefix);
        group.Add(b =>
        {
            var inner = b.RequestDelegate ?? throw new InvalidOperationException($"a dashboard endpoint ({b.DisplayName}) has no request delegate");
            b.RequestDelegate = async context =>
            {
                // The dashboard's handlers take its services [FromServices], i.e. from RequestServices; its log stream
                // (/Trace) runs for an hour unless aborted, so it ends when the gateway begins to stop.
                using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
                context.RequestAborted = aborted.Token;
                context.RequestServices = new DashboardServices(context.RequestServices, orleans);
                await inner(context);
            };
        });
        var mapping = app.Services.GetService<DashboardMapping>();
        if (mapping is not null) mapping.Path = RoutePrefix + "/";
    }

    private sealed record DashboardSource(IServiceProvider Services);

    /// <summary>The gateway's routes with another service provider (the one the dashboard's mapping reads its assets from).</summary>
    private sealed class ForwardingEndpoints(IEndpointRouteBuilder inner, IServiceProvider services) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => services;
        public ICollection<EndpointDataSource> DataSources => inner.DataSources;
        public IApplicationBuilder CreateApplicationBuilder() => inner.CreateApplicationBuilder();
    }
}

/// <summary>Where the dashboard is served (null when it is not): the status page links to it.</summary>
internal sealed class DashboardMapping
{
    public string? Path { get; set; }
}
