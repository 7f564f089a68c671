using System.Net;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Mvc.Rendering;

namespace Meta.ComputeAccess.Web.Ui;

/// <summary>
/// Beside an attribute that can be vouched for (institution, ORCID iD): "verified" when an identity provider asserted
/// it, "typed" when the person entered it. One look everywhere: profile, screening, reviewer pool.
/// </summary>
public static class VerifiedBadge
{
    public static IHtmlContent Verified(this IHtmlHelper html, bool verified, string what) =>
        new HtmlString(verified
            ? $"<span class=\"badge text-bg-success ms-1\" title=\"{WebUtility.HtmlEncode(what)} vouched for by an identity provider\">verified</span>"
            : $"<span class=\"badge text-bg-light border text-muted ms-1\" title=\"{WebUtility.HtmlEncode(what)} as typed, not verified\">typed</span>");
}
