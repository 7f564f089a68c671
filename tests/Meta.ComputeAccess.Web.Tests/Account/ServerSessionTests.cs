using System.Net;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Jobs;
using Meta.ComputeAccess.Testing;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>
/// Sessions end on the server: a sign-in cookie names its session, every request checks it, and signing out ends it,
/// so a copy of the cookie (stolen, or left in another browser) stops working at once.
/// </summary>
public sealed partial class ServerSessionTests(StaffTwoFactorPortalFactory factory) : IClassFixture<StaffTwoFactorPortalFactory>
{
    [Fact]
    public async Task A_copied_cookie_stops_working_once_its_session_signs_out()
    {
        var user = await factory.CreateUserAsync("copied.cookie@example.edu");
        using var browser = new PortalClient(factory);
        var cookie = await SignInAndCopyCookieAsync(browser, user.Email!);

        // The copy works while the session lasts.
        using (var replay = await ReplayAsync(cookie, "/Account/Profile"))
        {
            Assert.Equal(HttpStatusCode.OK, replay.StatusCode);
        }

        using (var signOut = await browser.PostFormAsync("/Account/Profile", [], "/Account/Logout"))
        {
            Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        }
        using (var replay = await ReplayAsync(cookie, "/Account/Profile"))
        {
            Assert.Equal(HttpStatusCode.Redirect, replay.StatusCode);
            Assert.Equal("/Account/Login", replay.Headers.Location!.AbsolutePath);
        }
        await using var db = factory.NewDbContext();
        var session = await db.UserSessions.SingleAsync(s => s.UserId == user.Id);
        Assert.Equal(factory.Clock.GetUtcNow(), session.EndedAt);
    }

    [Fact]
    public async Task Sign_out_everywhere_ends_another_clients_session_at_once()
    {
        var user = await factory.CreateUserAsync("two.laptops.now@example.edu");
        using var here = new PortalClient(factory);
        using var there = new PortalClient(factory);
        await here.SignInAsync(user.Email!);
        await there.SignInAsync(user.Email!);
        await there.GetPageAsync("/Account/Profile");

        using (var everywhere = await here.PostFormAsync("/Account/Security", [], "/Account/Security?handler=SignOutEverywhere"))
        {
            Assert.Equal("/Account/Login", everywhere.Headers.Location!.OriginalString);
        }
        // No clock advance: the other session is over with its very next request.
        using var therePage = await there.GetAsync("/Account/Profile");
        Assert.Equal(HttpStatusCode.Redirect, therePage.StatusCode);
        Assert.Equal("/Account/Login", therePage.Headers.Location!.AbsolutePath);
        await using var db = factory.NewDbContext();
        Assert.False(await db.UserSessions.AnyAsync(s => s.UserId == user.Id && s.EndedAt == null));

        // The account itself is fine: signing in again works.
        await there.SignInAsync(user.Email!);
        await there.GetPageAsync("/Account/Profile");
    }

    [Fact]
    public async Task The_security_page_lists_open_sessions_and_ends_another_one_at_once()
    {
        var user = await factory.CreateUserAsync("many.browsers@example.edu");
        using var laptop = new PortalClient(factory);
        using var phone = new PortalClient(factory);
        phone.Http.DefaultRequestHeaders.UserAgent.ParseAdd("PhoneBrowser/7.1");
        await laptop.SignInAsync(user.Email!);
        await phone.SignInAsync(user.Email!);

        var page = SessionsTable(await laptop.GetPageAsync("/Account/Security"));
        Assert.Contains("PhoneBrowser/7.1", page, StringComparison.Ordinal);
        Assert.Single(ThisBrowser().Matches(page));
        var endPhone = System.Net.WebUtility.HtmlDecode(Assert.Single(EndButtons().Matches(page)).Groups[1].Value);

        using (var ended = await laptop.PostFormAsync("/Account/Security", [], endPhone))
        {
            Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
        }
        using (var phonePage = await phone.GetAsync("/Account/Profile"))
        {
            Assert.Equal("/Account/Login", phonePage.Headers.Location!.AbsolutePath);
        }
        var after = SessionsTable(await laptop.GetPageAsync("/Account/Security"));
        Assert.Single(ThisBrowser().Matches(after));
        Assert.DoesNotContain("PhoneBrowser/7.1", after, StringComparison.Ordinal);
        Assert.Empty(EndButtons().Matches(after));
    }

    [Fact]
    public async Task Someone_elses_session_cannot_be_ended_and_answers_404()
    {
        var victim = await factory.CreateUserAsync("victim.sessions@example.edu");
        var other = await factory.CreateUserAsync("other.sessions@example.edu");
        using var victimClient = new PortalClient(factory);
        await victimClient.SignInAsync(victim.Email!);
        Guid victimSession;
        await using (var db = factory.NewDbContext())
        {
            victimSession = await db.UserSessions.Where(s => s.UserId == victim.Id).Select(s => s.Id).SingleAsync();
        }

        using var otherClient = new PortalClient(factory);
        await otherClient.SignInAsync(other.Email!);
        using (var refused = await otherClient.PostFormAsync("/Account/Security", [], $"/Account/Security?id={victimSession}&handler=EndSession"))
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }
        await victimClient.GetPageAsync("/Account/Profile");
    }

    [Fact]
    public async Task A_busy_session_writes_its_last_use_at_most_once_a_minute()
    {
        var user = await factory.CreateUserAsync("busy.session@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(user.Email!);
        var signedIn = factory.Clock.GetUtcNow();

        factory.Clock.Advance(TimeSpan.FromSeconds(30));
        await client.GetPageAsync("/Account/Profile");
        Assert.Equal(signedIn, await LastSeenAsync(user.Id));

        factory.Clock.Advance(TimeSpan.FromSeconds(31));
        await client.GetPageAsync("/Account/Profile");
        Assert.Equal(factory.Clock.GetUtcNow(), await LastSeenAsync(user.Id));
    }

    [Fact]
    public async Task Purge_removes_sessions_older_than_the_retention()
    {
        var user = await factory.CreateUserAsync("old.sessions@example.edu");
        using (var client = new PortalClient(factory))
        {
            await client.SignInAsync(user.Email!);
        }
        factory.Clock.Advance(PurgeUserSessionsJob.Retention + TimeSpan.FromMinutes(1));
        using (var recent = new PortalClient(factory))
        {
            await recent.SignInAsync(user.Email!);
        }

        await factory.WithScopeAsync(sp => sp.GetRequiredService<PurgeUserSessionsJob>().RunAsync());

        await using var db = factory.NewDbContext();
        var left = await db.UserSessions.Where(s => s.UserId == user.Id).Select(s => s.StartedAt).ToListAsync();
        Assert.Equal([factory.Clock.GetUtcNow()], left);
    }

    private async Task<DateTimeOffset> LastSeenAsync(Guid userId)
    {
        await using var db = factory.NewDbContext();
        return await db.UserSessions.Where(s => s.UserId == userId).Select(s => s.LastSeenAt).SingleAsync();
    }

    /// <summary>Signs in through the login page and returns the sign-in cookie(s) it set, as an attacker would copy them.</summary>
    private static async Task<string> SignInAndCopyCookieAsync(PortalClient client, string email)
    {
        using var response = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = email, ["Input.Password"] = TestUsers.Password });
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var cookies = response.Headers.GetValues("Set-Cookie").Where(c => c.StartsWith("mca.auth", StringComparison.Ordinal)).Select(c => c.Split(';')[0]).ToList();
        Assert.NotEmpty(cookies);
        return string.Join("; ", cookies);
    }

    private async Task<HttpResponseMessage> ReplayAsync(string cookie, string url)
    {
        using var stranger = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Add("Cookie", cookie);
        return await stranger.SendAsync(request);
    }

    /// <summary>The open-sessions table of the security page (the sign-in history below it names browsers too).</summary>
    private static string SessionsTable(string html) => SessionsPattern().Match(html).Value;

    [GeneratedRegex("<table class=\"table table-sm\" id=\"sessions\">.*?</table>", RegexOptions.Singleline)]
    private static partial Regex SessionsPattern();

    [GeneratedRegex(@"action=""(/Account/Security\?[^""]*EndSession[^""]*)""")]
    private static partial Regex EndButtons();

    [GeneratedRegex(">this browser<")]
    private static partial Regex ThisBrowser();
}
