using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Meta.ComputeAccess.Web.Tests.Security;

/// <summary>
/// Every route the app maps, checked against every kind of actor. The expected rule of each route is written in
/// <see cref="Rules"/>; a route the app maps without a rule here fails the test, so a new page cannot ship
/// without someone deciding who may open it.
/// </summary>
public sealed partial class AccessMatrixTests(SecurityWorld world, ITestOutputHelper output) : IClassFixture<SecurityWorld>
{
    /// <summary>Who may open a route.</summary>
    public enum Rule
    {
        /// <summary>Anyone, signed in or not.</summary>
        Public,
        /// <summary>Any signed-in user.</summary>
        SignedIn,
        /// <summary>Admins only; others are denied (403 page), visitors sent to sign in.</summary>
        Admin,
        /// <summary>Admins only, and only for a proposal at that step (this one is already screened): 404 for admins here.</summary>
        AdminAtStep,
        /// <summary>Reviewers only (folder policy): researchers and admins without the role are refused.</summary>
        Reviewer,
        /// <summary>Reviewers in the call's pool (assigned or not); a reviewer of another call gets 404.</summary>
        ReviewerInPool,
        /// <summary>The reviewer assigned to the proposal; a conflicted reviewer or one of another call gets 404.</summary>
        AssignedReviewer,
        /// <summary>Compliance officers only (folder policy): everyone else, admins included, is refused.</summary>
        Compliance,
        /// <summary>Safety reviewers only (folder policy): everyone else, admins included, is refused.</summary>
        Safety,
        /// <summary>The proposal's team only; everyone else (admins included: they use the admin pages) gets 404.</summary>
        Team,
        /// <summary>The allocation's PI and active members (the awarded proposal's team from the start; admins too, who manage allocations); everyone else gets 404.</summary>
        AllocationTeam,
        /// <summary>The allocation's PI alone (asking for more hours); everyone else, admins included, gets 404.</summary>
        AllocationPiOnly,
        /// <summary>The allocation's team (PI and joined co-investigators) alone, writing its reports; everyone else, admins included, gets 404.</summary>
        AllocationTeamOnly,
        /// <summary>Cluster API: a cookie never works (401); checked with tokens in <see cref="Cluster_api_answers_each_token_as_its_scope_says"/>.</summary>
        ClusterToken,
        /// <summary>Exists only in Development: 404 here.</summary>
        DevelopmentOnly,
        /// <summary>The code step of a two-factor sign-in: only in the middle of one; anyone else is sent to sign in.</summary>
        SecondSignInStep,
        /// <summary>Error and access-denied pages: shown to anyone, with their own status code, never a sign-in redirect.</summary>
        StatusPage,
        /// <summary>Not a page a browser opens with GET (API or form-only endpoints): checked by their own tests.</summary>
        NotAGetPage,
    }

    public enum Actor
    {
        Anonymous,
        Owner,
        CoInvestigator,
        OtherResearcher,
        Admin,
        AssignedReviewer,
        ConflictedReviewer,
        ReviewerOfAnotherCall,
        ComplianceOfficer,
        SafetyReviewer,
    }

    /// <summary>The expected rule of every mapped route pattern (GET).</summary>
    public static readonly Dictionary<string, Rule> Rules = new(StringComparer.Ordinal)
    {
        [""] = Rule.Public,
        ["Index"] = Rule.Public,
        ["Error/{code:int?}"] = Rule.StatusPage,
        ["Account/Login"] = Rule.Public,
        ["Account/Logout"] = Rule.SignedIn,
        ["Account/Register"] = Rule.Public,
        ["Account/RegisterConfirmation"] = Rule.Public,
        ["Account/ConfirmEmail"] = Rule.Public,
        ["Account/ResendConfirmation"] = Rule.Public,
        ["Account/ForgotPassword"] = Rule.Public,
        ["Account/ForgotPasswordConfirmation"] = Rule.Public,
        ["Account/ResetPassword"] = Rule.Public,
        ["Account/Lockout"] = Rule.Public,
        ["Account/AccessDenied"] = Rule.StatusPage,
        ["Account/Profile"] = Rule.SignedIn,
        ["Account/Terms"] = Rule.SignedIn,
        ["Account/TwoFactor"] = Rule.SignedIn,
        ["Account/Security"] = Rule.SignedIn,
        ["Account/Close"] = Rule.SignedIn,
        ["Account/LoginWith2fa"] = Rule.SecondSignInStep,
        ["Account/LoginWithRecoveryCode"] = Rule.SecondSignInStep,
        // Sign-in through an identity provider: the start posts, the rest only exists in the middle of one.
        ["Account/ExternalLogin"] = Rule.SecondSignInStep,
        ["Account/ExternalSignup"] = Rule.SecondSignInStep,
        ["Account/LinkLogin"] = Rule.SecondSignInStep,
        ["Account/Notifications/Preferences"] = Rule.SignedIn,
        ["Account/Logins"] = Rule.SignedIn,
        ["Notifications"] = Rule.SignedIn,
        ["Notifications/Index"] = Rule.SignedIn,
        ["Notifications/Unsubscribe"] = Rule.Public,
        ["Dev/Mailbox"] = Rule.DevelopmentOnly,
        ["Calls"] = Rule.SignedIn,
        ["Calls/Index"] = Rule.SignedIn,
        ["Calls/Details/{slug}"] = Rule.SignedIn,
        ["Proposals"] = Rule.SignedIn,
        ["Proposals/Index"] = Rule.SignedIn,
        ["Proposals/Create"] = Rule.SignedIn,
        ["Proposals/Invitations"] = Rule.SignedIn,
        ["Proposals/Details/{id:guid}"] = Rule.Team,
        ["Proposals/Edit/{id:guid}"] = Rule.Team,
        ["Proposals/Team/{id:guid}"] = Rule.Team,
        ["Proposals/Attachments/{id:guid}"] = Rule.Team,
        ["Proposals/Response/{id:guid}"] = Rule.Team,
        ["Proposals/Appeal/{id:guid}"] = Rule.Team,
        ["Proposals/Attachment/{id:guid}/{attachmentId:guid}"] = Rule.Team,
        ["Admin/Users"] = Rule.Admin,
        ["Admin/Users/Index"] = Rule.Admin,
        ["Admin/Users/Edit"] = Rule.Admin,
        ["Admin/Appeals"] = Rule.Admin,
        ["Admin/Appeals/Index"] = Rule.Admin,
        ["Admin/Appeals/Decide/{id:guid}"] = Rule.AdminAtStep,
        ["Admin/Audit"] = Rule.Admin,
        ["Admin/Audit/Index"] = Rule.Admin,
        ["Admin/Outbox"] = Rule.Admin,
        ["Admin/Outbox/Index"] = Rule.Admin,
        ["Admin/Retention"] = Rule.Admin,
        ["Admin/Retention/Index"] = Rule.Admin,
        ["Admin/Clusters"] = Rule.Admin,
        ["Admin/Clusters/Index"] = Rule.Admin,
        ["Admin/Clusters/Edit/{slug?}"] = Rule.Admin,
        ["Admin/Clusters/Rates/{slug}"] = Rule.Admin,
        ["Admin/Clusters/Logins/{slug}"] = Rule.Admin,
        ["Admin/Clusters/Sync/{slug}"] = Rule.Admin,
        ["Admin/Calls"] = Rule.Admin,
        ["Admin/Calls/Index"] = Rule.Admin,
        ["Admin/Calls/Create"] = Rule.Admin,
        ["Admin/Calls/Details/{slug}"] = Rule.Admin,
        ["Admin/Calls/Edit/{slug}"] = Rule.Admin,
        ["Admin/Calls/Proposals/{slug}"] = Rule.Admin,
        ["Admin/Proposals/Details/{id:guid}"] = Rule.Admin,
        ["Admin/Proposals/Attachment/{id:guid}/{attachmentId:guid}"] = Rule.Admin,
        ["admin/jobs/{**path}"] = Rule.Admin,
        ["Reviews"] = Rule.Reviewer,
        ["Reviews/Index"] = Rule.Reviewer,
        ["Reviews/{slug}/Bids"] = Rule.ReviewerInPool,
        ["Reviews/Review/{id:guid}"] = Rule.AssignedReviewer,
        ["Reviews/Attachment/{id:guid}/{attachmentId:guid}"] = Rule.AssignedReviewer,
        ["Admin/Calls/{slug}/Assignment"] = Rule.Admin,
        ["Admin/Calls/{slug}/Ranking"] = Rule.Admin,
        ["Admin/Calls/{slug}/Plan"] = Rule.Admin,
        ["Admin/Calls/{slug}/Screening"] = Rule.Admin,
        ["Admin/Calls/{slug}/Reviewers"] = Rule.Admin,
        ["Admin/Proposals/Decide/{id:guid}"] = Rule.Admin,
        ["Admin/Proposals/Screen/{id:guid}"] = Rule.AdminAtStep,
        ["Compliance"] = Rule.Compliance,
        ["Compliance/Index"] = Rule.Compliance,
        ["Compliance/Lists"] = Rule.Compliance,
        ["Compliance/Countries"] = Rule.Compliance,
        ["Safety"] = Rule.Safety,
        ["Safety/Index"] = Rule.Safety,
        ["Safety/Review/{id:guid}"] = Rule.Safety,
        ["Admin/Terms"] = Rule.Admin,
        ["Admin/Terms/Index"] = Rule.Admin,
        ["Allocations"] = Rule.SignedIn,
        ["Allocations/Index"] = Rule.SignedIn,
        ["Allocations/{id:guid}"] = Rule.AllocationTeam,
        ["Allocations/{id:guid}/Supplement"] = Rule.AllocationPiOnly,
        ["Allocations/{id:guid}/Report/{reportId:guid}"] = Rule.AllocationTeamOnly,
        ["Admin/Allocations/Reports"] = Rule.Admin,
        ["Allocations/{id:guid}/Transfer"] = Rule.AllocationPiOnly,
        ["Allocations/Invitations"] = Rule.SignedIn,
        ["Admin/Allocations"] = Rule.Admin,
        ["Admin/Allocations/Advances"] = Rule.Admin,
        ["Admin/Allocations/Index"] = Rule.Admin,
        ["Admin/Allocations/Create"] = Rule.Admin,
        ["Admin/Allocations/Details"] = Rule.Admin,
        ["Admin/Capacity"] = Rule.Admin,
        ["Admin/Capacity/Index"] = Rule.Admin,
        ["Admin/Capacity/Edit"] = Rule.Admin,
        ["Admin/Tokens"] = Rule.Admin,
        ["Admin/Tokens/Index"] = Rule.Admin,
        ["Admin/Usage/Unmatched"] = Rule.Admin,
        ["Admin/Reports"] = Rule.Admin,
        ["Awards"] = Rule.Public,
        ["Awards/Index"] = Rule.Public,
        ["Admin/Reports/Index"] = Rule.Admin,
        ["api/v1/usage"] = Rule.NotAGetPage,
        ["api/v1/clusters/{cluster}/quotas"] = Rule.ClusterToken,
        ["api/v1/clusters/{cluster}/associations"] = Rule.ClusterToken,
        ["api/v1/clusters/{cluster}/sync-reports"] = Rule.NotAGetPage,
        ["health/live"] = Rule.Public,
        ["health/ready"] = Rule.Public,
        // The static-files fallback (wwwroot, fingerprinted assets): public by design, holds no data.
        ["{**path:file}"] = Rule.NotAGetPage,
    };

    /// <summary>Concrete URLs for routes whose parameters or query a plain fill cannot supply.</summary>
    private static readonly Dictionary<string, string> Samples = new(StringComparer.Ordinal)
    {
        ["Proposals/Create"] = "Proposals/Create?call={otherSlug}",
        ["Admin/Clusters/Edit/{slug?}"] = "Admin/Clusters/Edit/{clusterSlug}",
        ["Admin/Clusters/Rates/{slug}"] = "Admin/Clusters/Rates/{clusterSlug}",
        ["Admin/Clusters/Logins/{slug}"] = "Admin/Clusters/Logins/{clusterSlug}",
        ["Admin/Clusters/Sync/{slug}"] = "Admin/Clusters/Sync/{clusterSlug}",
        ["Admin/Users/Edit"] = "Admin/Users/Edit?id={ownerId}",
        ["Safety/Review/{id:guid}"] = "Safety/Review/{safetyId}",
        ["Allocations/{id:guid}"] = "Allocations/{allocationId}",
        ["Allocations/{id:guid}/Supplement"] = "Allocations/{allocationId}/Supplement",
        ["Allocations/{id:guid}/Report/{reportId:guid}"] = "Allocations/{allocationId}/Report/{reportId}",
        ["Allocations/{id:guid}/Transfer"] = "Allocations/{allocationId}/Transfer",
        ["Admin/Allocations/Details"] = "Admin/Allocations/Details?id={allocationId}",
        ["Admin/Capacity/Edit"] = "Admin/Capacity/Edit?cluster={clusterId}&period={periodId}",
        ["api/v1/clusters/{cluster}/quotas"] = "api/v1/clusters/{clusterSlug}/quotas",
        ["api/v1/clusters/{cluster}/associations"] = "api/v1/clusters/{clusterSlug}/associations",
    };

    [Fact]
    public void Every_mapped_route_has_a_declared_rule()
    {
        var missing = MappedPatterns().Where(p => !Rules.ContainsKey(p)).ToList();
        Assert.True(missing.Count == 0, "Routes without an access rule in AccessMatrixTests.Rules: " + string.Join(", ", missing));
        var stale = Rules.Keys.Where(k => !MappedPatterns().Contains(k)).ToList();
        Assert.True(stale.Count == 0, "Rules for routes the app no longer maps: " + string.Join(", ", stale));
    }

    [Theory]
    [InlineData(Actor.Anonymous)]
    [InlineData(Actor.Owner)]
    [InlineData(Actor.CoInvestigator)]
    [InlineData(Actor.OtherResearcher)]
    [InlineData(Actor.Admin)]
    [InlineData(Actor.AssignedReviewer)]
    [InlineData(Actor.ConflictedReviewer)]
    [InlineData(Actor.ReviewerOfAnotherCall)]
    [InlineData(Actor.ComplianceOfficer)]
    [InlineData(Actor.SafetyReviewer)]
    public async Task Every_route_answers_each_actor_as_its_rule_says(Actor actor)
    {
        using var client = new PortalClient(world);
        var email = actor switch
        {
            Actor.Owner => "owner@matrix.example.edu",
            Actor.CoInvestigator => "co@matrix.example.edu",
            Actor.OtherResearcher => "other@matrix.example.edu",
            Actor.Admin => "admin@matrix.example.org",
            Actor.AssignedReviewer => "rev.assigned@review.example.org",
            Actor.ConflictedReviewer => "rev.conflicted@matrix.example.edu",
            Actor.ReviewerOfAnotherCall => "rev.other@other.example.org",
            Actor.ComplianceOfficer => SecurityWorld.ComplianceOfficer,
            Actor.SafetyReviewer => SecurityWorld.SafetyReviewer,
            _ => null,
        };
        if (email is not null)
        {
            await client.SignInAsync(email);
        }
        var failures = new List<string>();
        foreach (var pattern in MappedPatterns().Where(Rules.ContainsKey))
        {
            var rule = Rules[pattern];
            if (rule == Rule.NotAGetPage)
            {
                continue;
            }
            var url = "/" + Fill(Samples.GetValueOrDefault(pattern, pattern));
            using var response = await client.GetAsync(url);
            var outcome = Outcome(response);
            var expected = Expected(rule, actor);
            // Status pages answer with their own code; they are shown, but never by failing (a 5xx stays a failure).
            if (expected == Result.Shown && outcome != Result.SignInRequired && (int)response.StatusCode < 500)
            {
                outcome = Result.Shown;
            }
            output.WriteLine($"{actor,-16} {url,-70} {(int)response.StatusCode} {outcome}");
            if (outcome != expected)
            {
                failures.Add($"{url} ({rule}) as {actor}: expected {expected}, got {outcome} ({(int)response.StatusCode} {response.Headers.Location})");
            }
            if (response.StatusCode == HttpStatusCode.OK && response.Content.Headers.ContentType?.MediaType == "text/html")
            {
                failures.AddRange(ButtonsDroppingRouteValues(await response.Content.ReadAsStringAsync()).Select(p => $"{url} as {actor}: {p}"));
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// A button with its own handler (<c>formaction</c>) replaces the form's action: every query value of the form's
    /// action (the id of the thing acted on) must be in the button's too, or the post reaches the handler without it.
    /// </summary>
    private static IEnumerable<string> ButtonsDroppingRouteValues(string html)
    {
        foreach (System.Text.RegularExpressions.Match form in FormElement().Matches(html))
        {
            var action = System.Net.WebUtility.HtmlDecode(form.Groups["action"].Value);
            var needed = QueryOf(action).Where(kv => kv.Key != "handler").ToList();
            foreach (System.Text.RegularExpressions.Match button in FormAction().Matches(form.Groups["body"].Value))
            {
                var target = System.Net.WebUtility.HtmlDecode(button.Groups[1].Value);
                var given = QueryOf(target);
                foreach (var (key, value) in needed.Where(kv => !given.Contains(kv)))
                {
                    yield return $"a button posting to {target} drops {key}={value} of its form's action {action}";
                }
            }
        }
    }

    private static HashSet<KeyValuePair<string, string>> QueryOf(string url) =>
        [.. Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(url.Contains('?', StringComparison.Ordinal) ? url[url.IndexOf('?', StringComparison.Ordinal)..] : "")
            .Select(kv => new KeyValuePair<string, string>(kv.Key, kv.Value.ToString()))];

    [System.Text.RegularExpressions.GeneratedRegex("<form\\b[^>]*?\\baction=\"(?<action>[^\"]*)\"[^>]*>(?<body>.*?)</form>", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex FormElement();

    [System.Text.RegularExpressions.GeneratedRegex("\\bformaction=\"([^\"]*)\"")]
    private static partial System.Text.RegularExpressions.Regex FormAction();

    [Theory]
    [InlineData("own", HttpStatusCode.OK)]
    [InlineData("other", HttpStatusCode.Forbidden)]
    [InlineData("revoked", HttpStatusCode.Unauthorized)]
    [InlineData("none", HttpStatusCode.Unauthorized)]
    public async Task Cluster_api_answers_each_token_as_its_scope_says(string token, HttpStatusCode expected)
    {
        using var client = world.CreateClient();
        if (world.Tokens.TryGetValue(token, out var secret))
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        }
        foreach (var read in new[] { "quotas", "associations" })
        {
            using var answer = await client.GetAsync(new Uri($"/api/v1/clusters/{world.Values["clusterSlug"]}/{read}", UriKind.Relative));
            Assert.Equal(expected, answer.StatusCode);
        }
        var report = $$"""{ "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:01Z", "dryRun": true, "accounts": [], "agentVersion": "{{token}}" }""";
        using (var reported = await client.PostAsync(new Uri($"/api/v1/clusters/{world.Values["clusterSlug"]}/sync-reports", UriKind.Relative),
            new StringContent(report, System.Text.Encoding.UTF8, "application/json")))
        {
            Assert.Equal(expected, reported.StatusCode);
        }
        using var body = new StringContent("JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State\n", System.Text.Encoding.UTF8, "text/plain");
        using var usage = await client.PostAsync(new Uri($"/api/v1/usage?cluster={world.Values["clusterSlug"]}", UriKind.Relative), body);
        Assert.Equal(expected == HttpStatusCode.OK ? HttpStatusCode.OK : expected, usage.StatusCode == HttpStatusCode.BadRequest && expected == HttpStatusCode.OK ? HttpStatusCode.OK : usage.StatusCode);
    }

    private enum Result
    {
        /// <summary>Any answer but a sign-in redirect (status pages carry their own code).</summary>
        Shown,
        Allowed,
        SignInRequired,
        Denied,
        NotFound,
    }

    private static Result Expected(Rule rule, Actor actor) => (rule, actor) switch
    {
        (Rule.Public, _) => Result.Allowed,
        (Rule.StatusPage, _) => Result.Shown,
        (Rule.SecondSignInStep, _) => Result.SignInRequired,
        (Rule.DevelopmentOnly, _) => Result.NotFound,
        (_, Actor.Anonymous) => Result.SignInRequired,
        (Rule.SignedIn, _) => Result.Allowed,
        (Rule.Admin, Actor.Admin) => Result.Allowed,
        (Rule.Admin, _) => Result.Denied,
        (Rule.Compliance, Actor.ComplianceOfficer) => Result.Allowed,
        (Rule.Compliance, _) => Result.Denied,
        (Rule.Safety, Actor.SafetyReviewer) => Result.Allowed,
        (Rule.Safety, _) => Result.Denied,
        (Rule.Reviewer or Rule.ReviewerInPool or Rule.AssignedReviewer, Actor.Owner or Actor.CoInvestigator or Actor.OtherResearcher or Actor.Admin or Actor.ComplianceOfficer or Actor.SafetyReviewer) => Result.Denied,
        (Rule.Reviewer, _) => Result.Allowed,
        (Rule.ReviewerInPool, Actor.AssignedReviewer or Actor.ConflictedReviewer) => Result.Allowed,
        (Rule.ReviewerInPool, _) => Result.NotFound,
        (Rule.AssignedReviewer, Actor.AssignedReviewer) => Result.Allowed,
        (Rule.AssignedReviewer, _) => Result.NotFound,
        (Rule.AdminAtStep, Actor.Admin) => Result.NotFound,
        (Rule.AdminAtStep, _) => Result.Denied,
        (Rule.Team, Actor.Owner or Actor.CoInvestigator) => Result.Allowed,
        (Rule.Team, _) => Result.NotFound,
        (Rule.AllocationTeam, Actor.Owner or Actor.CoInvestigator or Actor.Admin) => Result.Allowed,
        (Rule.AllocationTeam, _) => Result.NotFound,
        (Rule.AllocationPiOnly, Actor.Owner) => Result.Allowed,
        (Rule.AllocationPiOnly, _) => Result.NotFound,
        (Rule.AllocationTeamOnly, Actor.Owner or Actor.CoInvestigator) => Result.Allowed,
        (Rule.AllocationTeamOnly, _) => Result.NotFound,
        (Rule.ClusterToken, _) => Result.SignInRequired,
        _ => throw new InvalidOperationException($"No expectation for {rule} and {actor}"),
    };

    private static Result Outcome(HttpResponseMessage response)
    {
        var location = response.Headers.Location?.OriginalString ?? "";
        return response.StatusCode switch
        {
            HttpStatusCode.NotFound => Result.NotFound,
            HttpStatusCode.Forbidden => Result.Denied,
            HttpStatusCode.Unauthorized => Result.SignInRequired,
            HttpStatusCode.Redirect or HttpStatusCode.Found when location.Contains("/Account/Login", StringComparison.Ordinal) => Result.SignInRequired,
            HttpStatusCode.Redirect when location.Contains("/Account/AccessDenied", StringComparison.Ordinal) => Result.Denied,
            _ when (int)response.StatusCode < 400 => Result.Allowed,
            // A page that needs query parameters answers 400 to a bare GET: it was reached, so access was granted.
            HttpStatusCode.BadRequest => Result.Allowed,
            _ => (Result)(-1),
        };
    }

    private string Fill(string pattern)
    {
        var result = pattern;
        foreach (var (name, value) in world.Values)
        {
            foreach (var form in new[] { $"{{{name}}}", $"{{{name}:guid}}", $"{{{name}?}}", $"{{{name}:int?}}", $"{{**{name}}}" })
            {
                result = result.Replace(form, value, StringComparison.Ordinal);
            }
        }
        return result.TrimEnd('/');
    }

    /// <summary>Every route the app maps, except static files (public by design: MapStaticAssets().AllowAnonymous()).</summary>
    private HashSet<string> MappedPatterns() =>
        [.. world.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => !e.Metadata.Any(m => m.GetType().Name.Contains("StaticAsset", StringComparison.Ordinal)))
            .Select(e => e.RoutePattern.RawText ?? "")
            .Select(p => p.TrimStart('/'))
            .Where(p => !p.StartsWith("_", StringComparison.Ordinal))];
}
