using System.Text;
using Deque.AxeCore.Playwright;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Meta.ComputeAccess.Browser.Tests.Accessibility;

/// <summary>
/// Every page each demo role can open, scanned with axe-core (WCAG 2 A and AA rules and best practices): a serious or
/// critical violation fails the run. The pages come from the app's routes, like the access matrix: a route without a
/// sample URL here (or a reason to skip it) fails <see cref="Every_page_route_is_scanned_or_skipped_for_a_reason"/>, so a
/// new page is scanned from the day it is added; and each sampled page has an owner among the roles (<see cref="OwnerOf"/>)
/// who must reach it, so a page cannot drop out of the scan by no longer answering anyone with a page.
/// </summary>
public sealed class AccessibilityTests(DemoBrowserFixture portal, ITestOutputHelper output) : IClassFixture<DemoBrowserFixture>
{
    /// <summary>The URLs that exercise each route pattern, with <c>{name}</c> filled from <see cref="DemoBrowserFixture.Values"/>.</summary>
    private static readonly Dictionary<string, string[]> Samples = new(StringComparer.Ordinal)
    {
        [""] = ["/"],
        ["Error/{code:int?}"] = ["/Error/404"],
        ["Account/Login"] = ["/Account/Login"],
        ["Account/Register"] = ["/Account/Register"],
        ["Account/RegisterConfirmation"] = ["/Account/RegisterConfirmation"],
        ["Account/ConfirmEmail"] = ["/Account/ConfirmEmail"],
        ["Account/ResendConfirmation"] = ["/Account/ResendConfirmation"],
        ["Account/ForgotPassword"] = ["/Account/ForgotPassword"],
        ["Account/ForgotPasswordConfirmation"] = ["/Account/ForgotPasswordConfirmation"],
        ["Account/ResetPassword"] = ["/Account/ResetPassword?userId={amaraId}&code=not-a-code"],
        ["Account/Lockout"] = ["/Account/Lockout"],
        ["Account/AccessDenied"] = ["/Account/AccessDenied"],
        ["Account/Profile"] = ["/Account/Profile"],
        ["Account/TwoFactor"] = ["/Account/TwoFactor"],
        ["Account/Security"] = ["/Account/Security"],
        ["Account/Close"] = ["/Account/Close"],
        ["Account/ExternalLogin"] = ["/Account/ExternalLogin?handler=Failed&reason=Refused"],
        ["Account/Notifications/Preferences"] = ["/Account/Notifications/Preferences"],
        ["Notifications"] = ["/Notifications"],
        ["Notifications/Unsubscribe"] = ["/Notifications/Unsubscribe?token=not-a-token"],
        ["Calls"] = ["/Calls"],
        ["Calls/Details/{slug}"] = ["/Calls/Details/{openSlug}"],
        ["Proposals"] = ["/Proposals"],
        ["Proposals/Create"] = ["/Proposals/Create?call={openSlug}"],
        ["Proposals/Details/{id:guid}"] = ["/Proposals/Details/{amaraSubmitted}", "/Proposals/Details/{amaraDraft}"],
        ["Proposals/Edit/{id:guid}"] = ["/Proposals/Edit/{amaraDraft}"],
        ["Proposals/Team/{id:guid}"] = ["/Proposals/Team/{amaraSubmitted}"],
        ["Proposals/Attachments/{id:guid}"] = ["/Proposals/Attachments/{amaraDraft}"],
        ["Admin/Users"] = ["/Admin/Users"],
        ["Admin/Users/Edit"] = ["/Admin/Users/Edit?id={amaraId}"],
        ["Admin/Audit"] = ["/Admin/Audit"],
        ["Admin/Outbox"] = ["/Admin/Outbox"],
        ["Admin/Retention"] = ["/Admin/Retention"],
        ["Admin/Clusters"] = ["/Admin/Clusters"],
        ["Admin/Clusters/Edit/{slug?}"] = ["/Admin/Clusters/Edit/{clusterSlug}", "/Admin/Clusters/Edit"],
        ["Admin/Clusters/Rates/{slug}"] = ["/Admin/Clusters/Rates/{clusterSlug}"],
        ["Admin/Calls"] = ["/Admin/Calls"],
        ["Admin/Calls/Create"] = ["/Admin/Calls/Create"],
        ["Admin/Calls/Details/{slug}"] = ["/Admin/Calls/Details/{reviewSlug}"],
        ["Admin/Calls/Edit/{slug}"] = ["/Admin/Calls/Edit/{openSlug}"],
        ["Admin/Calls/Proposals/{slug}"] = ["/Admin/Calls/Proposals/{reviewSlug}"],
        ["Admin/Proposals/Details/{id:guid}"] = ["/Admin/Proposals/Details/{inReview}"],
        ["Reviews"] = ["/Reviews"],
        ["Reviews/{slug}/Bids"] = ["/Reviews/{reviewSlug}/Bids"],
        ["Reviews/Review/{id:guid}"] = ["/Reviews/Review/{inReview}"],
        ["Admin/Calls/{slug}/Assignment"] = ["/Admin/Calls/{reviewSlug}/Assignment"],
        ["Admin/Calls/{slug}/Ranking"] = ["/Admin/Calls/{reviewSlug}/Ranking"],
        ["Admin/Calls/{slug}/Plan"] = ["/Admin/Calls/{reviewSlug}/Plan"],
        ["Admin/Calls/{slug}/Screening"] = ["/Admin/Calls/{reviewSlug}/Screening"],
        ["Admin/Calls/{slug}/Reviewers"] = ["/Admin/Calls/{reviewSlug}/Reviewers"],
        ["Admin/Proposals/Decide/{id:guid}"] = ["/Admin/Proposals/Decide/{reviewed}"],
        ["Admin/Proposals/Screen/{id:guid}"] = ["/Admin/Proposals/Screen/{toScreen}"],
        ["Allocations"] = ["/Allocations"],
        ["Allocations/{id:guid}"] = ["/Allocations/{allocationId}"],
        ["Allocations/{id:guid}/Supplement"] = ["/Allocations/{allocationId}/Supplement"],
        ["Allocations/{id:guid}/Report/{reportId:guid}"] = ["/Allocations/{allocationId}/Report/{reportId}"],
        ["Admin/Allocations/Reports"] = ["/Admin/Allocations/Reports", "/Admin/Allocations/Reports?show=overdue"],
        ["Allocations/{id:guid}/Transfer"] = ["/Allocations/{allocationId}/Transfer"],
        ["Admin/Allocations"] = ["/Admin/Allocations"],
        ["Admin/Allocations/Create"] = ["/Admin/Allocations/Create"],
        ["Admin/Allocations/Details"] = ["/Admin/Allocations/Details?id={allocationId}"],
        ["Admin/Allocations/Advances"] = ["/Admin/Allocations/Advances"],
        ["Admin/Capacity"] = ["/Admin/Capacity"],
        ["Admin/Capacity/Edit"] = ["/Admin/Capacity/Edit?cluster={clusterId}&period={periodId}"],
        ["Admin/Tokens"] = ["/Admin/Tokens"],
        ["Admin/Usage/Unmatched"] = ["/Admin/Usage/Unmatched"],
        ["Admin/Reports"] = ["/Admin/Reports", "/Admin/Reports?from=2027-05-01&to=2027-04-01"],
        ["Awards"] = ["/Awards", "/Awards?field=Computer%20vision"],
        ["Account/Logins"] = ["/Account/Logins"],
        ["Allocations/Invitations"] = ["/Allocations/Invitations"],
        ["Proposals/Invitations"] = ["/Proposals/Invitations"],
        ["Admin/Appeals"] = ["/Admin/Appeals"],
        ["Admin/Clusters/Logins/{slug}"] = ["/Admin/Clusters/Logins/{clusterSlug}"],
        ["Admin/Clusters/Sync/{slug}"] = ["/Admin/Clusters/Sync/{clusterSlug}"],
        ["Compliance"] = ["/Compliance", "/Compliance?status=Cleared"],
        ["Compliance/Lists"] = ["/Compliance/Lists"],
        ["Compliance/Countries"] = ["/Compliance/Countries"],
        ["Safety"] = ["/Safety", "/Safety?all=true"],
        ["Safety/Review/{id:guid}"] = ["/Safety/Review/{safetyTrack}"],
        ["Admin/Terms"] = ["/Admin/Terms", "/Admin/Terms?callId={reviewCallId}"],
        ["Account/Terms"] = ["/Account/Terms"],
    };

    /// <summary>Routes that are not pages of ours to scan, and why.</summary>
    private static readonly Dictionary<string, string> Skipped = new(StringComparer.Ordinal)
    {
        ["Index"] = "the same page as the root",
        ["Account/Logout"] = "a GET only redirects to the dashboard",
        ["Account/LoginWith2fa"] = "reachable only in the middle of a two-factor sign-in (scanned by the staff two-factor tests' pages)",
        ["Account/LoginWithRecoveryCode"] = "reachable only in the middle of a two-factor sign-in",
        ["Account/ExternalSignup"] = "reachable only in the middle of a sign-in through an identity provider (scanned in FederatedSignInJourneyTests)",
        ["Account/LinkLogin"] = "reachable only in the middle of a sign-in through an identity provider (scanned in FederatedSignInJourneyTests)",
        ["Dev/Mailbox"] = "exists only in Development",
        ["Notifications/Index"] = "the same page as Notifications",
        ["Calls/Index"] = "the same page as Calls",
        ["Proposals/Index"] = "the same page as Proposals",
        ["Reviews/Index"] = "the same page as Reviews",
        ["Allocations/Index"] = "the same page as Allocations",
        ["Admin/Users/Index"] = "the same page as Admin/Users",
        ["Admin/Audit/Index"] = "the same page as Admin/Audit",
        ["Admin/Outbox/Index"] = "the same page as Admin/Outbox",
        ["Admin/Retention/Index"] = "the same page as Admin/Retention",
        ["Admin/Clusters/Index"] = "the same page as Admin/Clusters",
        ["Admin/Calls/Index"] = "the same page as Admin/Calls",
        ["Admin/Allocations/Index"] = "the same page as Admin/Allocations",
        ["Admin/Capacity/Index"] = "the same page as Admin/Capacity",
        ["Admin/Tokens/Index"] = "the same page as Admin/Tokens",
        ["Admin/Reports/Index"] = "the same page as Admin/Reports",
        ["Awards/Index"] = "the same page as Awards",
        ["Compliance/Index"] = "the same page as Compliance",
        ["Safety/Index"] = "the same page as Safety",
        ["Admin/Terms/Index"] = "the same page as Admin/Terms",
        ["Proposals/Attachment/{id:guid}/{attachmentId:guid}"] = "a file download",
        ["Admin/Proposals/Attachment/{id:guid}/{attachmentId:guid}"] = "a file download",
        ["Reviews/Attachment/{id:guid}/{attachmentId:guid}"] = "a file download",
        ["admin/jobs/{**path}"] = "Hangfire's own dashboard, not the portal's pages",
        ["api/v1/usage"] = "the cluster API",
        ["api/v1/clusters/{cluster}/associations"] = "the cluster API",
        ["api/v1/clusters/{cluster}/sync-reports"] = "the cluster API",
        ["Admin/Appeals/Index"] = "the same page as Admin/Appeals",
        ["Admin/Appeals/Decide/{id:guid}"] = "needs a filed appeal, which the demo does not have yet (AppealTests exercise the page)",
        ["Proposals/Appeal/{id:guid}"] = "needs a released decision of the signed-in team's, which the demo's researcher does not have yet (AppealTests exercise the page)",
        ["Proposals/Response/{id:guid}"] = "needs a call in its response phase, which the demo does not have yet (ResponseJourneyTests walk the page in a browser)",
        ["api/v1/clusters/{cluster}/quotas"] = "the cluster API",
        ["health/live"] = "a health probe (text)",
        ["health/ready"] = "a health probe (text)",
        ["{**path:file}"] = "static files",
    };

    /// <summary>
    /// Whose pages each sampled route is: that role must reach every sample URL of it, so a page that stops answering
    /// its own people (a redirect, a 403, a broken link in the demo) fails the scan instead of silently dropping out.
    /// The visitor owns the public and signed-out pages; each staff role its own folder; the researcher the rest.
    /// </summary>
    private static string OwnerOf(string route) => route switch
    {
        "" or "Error/{code:int?}" or "Awards" or "Notifications/Unsubscribe"
            or "Account/Login" or "Account/Register" or "Account/RegisterConfirmation" or "Account/ConfirmEmail" or "Account/ResendConfirmation"
            or "Account/ForgotPassword" or "Account/ForgotPasswordConfirmation" or "Account/ResetPassword" or "Account/Lockout"
            or "Account/AccessDenied" or "Account/ExternalLogin" => "visitor",
        _ when route.StartsWith("Admin/", StringComparison.Ordinal) => "admin@example.org",
        _ when route.StartsWith("Compliance", StringComparison.Ordinal) => "sofia.lindqvist@example.org",
        _ when route.StartsWith("Safety", StringComparison.Ordinal) => "david.osei@example.org",
        _ when route.StartsWith("Reviews", StringComparison.Ordinal) => "rosa.martinez@northfield.example.edu",
        _ => "amara.okafor@lakeside.example.edu",
    };

    /// <summary>Sample pages answered on purpose with an error status, whose page is ours to scan all the same.</summary>
    private static readonly Dictionary<string, int> ErrorPages = new(StringComparer.Ordinal)
    {
        ["/Error/404"] = 404,
        ["/Account/AccessDenied"] = 403,
        ["/Notifications/Unsubscribe?token=not-a-token"] = 400,
    };

    /// <summary>The demo's people: a visitor, a researcher, a reviewer, the admin, the compliance officer and the safety reviewer.</summary>
    public static TheoryData<string> Roles => ["visitor", "amara.okafor@lakeside.example.edu", "rosa.martinez@northfield.example.edu", "admin@example.org", "sofia.lindqvist@example.org", "david.osei@example.org"];

    [Fact]
    public void Every_page_route_is_scanned_or_skipped_for_a_reason()
    {
        var missing = MappedPatterns().Where(p => !Samples.ContainsKey(p) && !Skipped.ContainsKey(p)).ToList();
        Assert.True(missing.Count == 0, "Routes neither scanned nor skipped in AccessibilityTests: " + string.Join(", ", missing));
        var stale = Samples.Keys.Concat(Skipped.Keys).Where(k => !MappedPatterns().Contains(k)).ToList();
        Assert.True(stale.Count == 0, "Samples for routes the app no longer maps: " + string.Join(", ", stale));
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public async Task Every_page_a_demo_role_can_open_has_no_serious_or_critical_axe_violation(string role)
    {
        var page = await portal.DemoPageAsync(role == "visitor" ? null : role);
        var problems = new StringBuilder();
        var scanned = new List<string>();
        foreach (var url in Samples.Values.SelectMany(u => u).Select(Fill).Distinct())
        {
            var response = await page.GotoAsync(url);
            var path = new Uri(page.Url).PathAndQuery;
            // Pages this role may not open (403, 404, the sign-in page instead) are not theirs to use.
            if (response is null || response.Status != ErrorPages.GetValueOrDefault(url, 200) || !string.Equals(path, url, StringComparison.OrdinalIgnoreCase)
                || !(response.Headers.GetValueOrDefault("content-type") ?? "").StartsWith("text/html", StringComparison.Ordinal))
            {
                continue;
            }
            scanned.Add(url);
            var result = await page.RunAxe();
            foreach (var violation in result.Violations.Where(v => v.Impact is "serious" or "critical"))
            {
                problems.Append(url).Append(": ").Append(violation.Impact).Append(' ').Append(violation.Id).Append(" — ").Append(violation.Help).Append('\n');
                foreach (var node in violation.Nodes.Take(5))
                {
                    problems.Append("    ").Append(node.Target).Append("  ").Append(node.Html.Length > 160 ? node.Html[..160] : node.Html).Append('\n');
                }
            }
        }
        output.WriteLine($"{role}: scanned {scanned.Count} pages\n  " + string.Join("\n  ", scanned));
        Assert.True(problems.Length == 0, problems.ToString());
        // The scan really reached the role's own pages, every one of them (a broken sign-in would leave only the public ones).
        var unreached = Samples.Where(s => OwnerOf(s.Key) == role).SelectMany(s => s.Value).Select(Fill).Where(u => !scanned.Contains(u)).ToList();
        Assert.True(unreached.Count == 0, $"{role} did not reach their own pages: {string.Join(", ", unreached)}");
    }

    private string Fill(string template)
    {
        foreach (var (name, value) in portal.Values)
        {
            template = template.Replace("{" + name + "}", value, StringComparison.Ordinal);
        }
        return template;
    }

    private HashSet<string> MappedPatterns() =>
        [.. portal.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => !e.Metadata.Any(m => m.GetType().Name.Contains("StaticAsset", StringComparison.Ordinal)))
            .Select(e => (e.RoutePattern.RawText ?? "").TrimStart('/'))
            .Where(p => !p.StartsWith("_", StringComparison.Ordinal))];
}
