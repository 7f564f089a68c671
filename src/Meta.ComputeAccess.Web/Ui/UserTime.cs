using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Mvc.Rendering;

namespace Meta.ComputeAccess.Web.Ui;

/// <summary>
/// Times are stored in UTC and shown in the reader's time zone (from their profile, carried as a claim),
/// always with the zone named, so nobody has to guess what "17:00" means.
/// </summary>
public static class UserTime
{
    public const string ClaimType = "mca:tz";

    public static TimeZoneInfo Find(string? id) =>
        id is not null && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : TimeZoneInfo.Utc;

    public static TimeZoneInfo TimeZone(this ClaimsPrincipal user) => Find(user.FindFirstValue(ClaimType));

    public static bool IsKnownZone(string? id) => id is not null && TimeZoneInfo.TryFindSystemTimeZoneById(id, out _);

    public static IReadOnlyList<string> ZoneIds { get; } =
        [.. TimeZoneInfo.GetSystemTimeZones().Select(z => z.Id).Where(id => id.Contains('/', StringComparison.Ordinal) || id == "UTC").Order(StringComparer.Ordinal)];

    public static string Format(DateTimeOffset instant, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(instant, zone).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " " + zone.Id;

    /// <summary>The value for an &lt;input type="datetime-local"&gt; showing <paramref name="instant"/> in <paramref name="zone"/>.</summary>
    public static string ToInputValue(DateTimeOffset? instant, TimeZoneInfo zone) =>
        instant is null ? "" : TimeZoneInfo.ConvertTime(instant.Value, zone).ToString("yyyy-MM-ddTHH:mm", CultureInfo.InvariantCulture);

    /// <summary>Reads a datetime-local value entered in <paramref name="zone"/>; refuses times that do not exist or are ambiguous there.</summary>
    public static bool TryParseInput(string? value, TimeZoneInfo zone, out DateTimeOffset utc, out string error)
    {
        utc = default;
        error = "";
        if (!DateTime.TryParseExact(value, ["yyyy-MM-ddTHH:mm", "yyyy-MM-ddTHH:mm:ss"], CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            error = "Enter a date and time.";
            return false;
        }
        if (local.Year is < 2000 or > 2100)
        {
            error = "Enter a date between 2000 and 2100.";
            return false;
        }
        if (zone.IsInvalidTime(local))
        {
            error = $"That time does not exist in {zone.Id} (the clocks skip it).";
            return false;
        }
        if (zone.IsAmbiguousTime(local))
        {
            error = $"That time happens twice in {zone.Id} (the clocks go back); choose another.";
            return false;
        }
        utc = new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
        return true;
    }

    /// <summary>Renders an instant in the reader's zone, naming it; the browser refines it to the device's zone (site.js).</summary>
    public static IHtmlContent LocalTime(this IHtmlHelper html, DateTimeOffset? instant)
    {
        if (instant is null)
        {
            return new HtmlString("—");
        }
        var zone = html.ViewContext.HttpContext.User.TimeZone();
        var tag = new TagBuilder("time");
        tag.Attributes["datetime"] = instant.Value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        // site.js rewrites it in the device's zone, in the same format, naming that zone.
        tag.Attributes["data-local"] = "";
        tag.InnerHtml.Append(Format(instant.Value, zone));
        return tag;
    }

    /// <summary>The calendar day of an instant in the reader's zone ("2027-03-01").</summary>
    public static string LocalDate(this IHtmlHelper html, DateTimeOffset instant) =>
        TimeZoneInfo.ConvertTime(instant, html.ViewContext.HttpContext.User.TimeZone()).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>"3 days 4 hours left" / "closed", from the server clock.</summary>
    public static string Remaining(DateTimeOffset deadline, DateTimeOffset now)
    {
        var left = deadline - now;
        if (left <= TimeSpan.Zero)
        {
            return "closed";
        }
        if (left.TotalDays >= 2)
        {
            return $"{(int)left.TotalDays} days {left.Hours} h left";
        }
        if (left.TotalHours >= 1)
        {
            return $"{(int)left.TotalHours} h {left.Minutes} min left";
        }
        return $"{Math.Max(1, (int)left.TotalMinutes)} min left";
    }
}
