namespace OrleansInfer.Model.Tests.Templates.Conformance;

/// <summary>A clock stopped at one instant, in UTC, so strftime_now renders what the Python oracle rendered.</summary>
public sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
