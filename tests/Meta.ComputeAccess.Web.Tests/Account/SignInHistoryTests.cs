using System.Net;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Jobs;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Account;

public sealed partial class SignInHistoryTests(StaffTwoFactorPortalFactory factory) : IClassFixture<StaffTwoFactorPortalFactory>
{
    [Fact]
    public async Task Sign_in_history_lists_successes_and_failures_of_the_own_account_only()
    {
        var ursula = await factory.CreateUserAsync("ursula@example.edu");
        var victor = await factory.CreateUserAsync("victor@example.edu");
        using var victorClient = new PortalClient(factory);
        victorClient.Http.DefaultRequestHeaders.UserAgent.ParseAdd("VictorBrowser/1.0");
        await WrongPasswordAsync(victorClient, victor.Email!);
        await victorClient.SignInAsync(victor.Email!);

        using var ursulaClient = new PortalClient(factory);
        ursulaClient.Http.DefaultRequestHeaders.UserAgent.ParseAdd("UrsulaBrowser/2.0");
        await WrongPasswordAsync(ursulaClient, ursula.Email!);
        await WrongPasswordAsync(ursulaClient, ursula.Email!);
        await ursulaClient.SignInAsync(ursula.Email!);
        // Unknown addresses are answered like wrong passwords and recorded for no one.
        await WrongPasswordAsync(ursulaClient, "nobody@example.edu");

        var html = await ursulaClient.GetPageAsync("/Account/Security");
        var rows = Rows(html);
        Assert.Equal(3, rows.Count);
        Assert.Contains("Signed in", rows[0], StringComparison.Ordinal);
        Assert.Contains("Wrong password", rows[1], StringComparison.Ordinal);
        Assert.Contains("Wrong password", rows[2], StringComparison.Ordinal);
        Assert.All(rows, r => Assert.Contains("UrsulaBrowser/2.0", r, StringComparison.Ordinal));
        Assert.DoesNotContain("VictorBrowser", html, StringComparison.Ordinal);

        await using var db = factory.NewDbContext();
        Assert.Equal(2, await db.SignInEvents.CountAsync(e => e.UserId == victor.Id));
        Assert.False(await db.SignInEvents.AnyAsync(e => e.UserId != victor.Id && e.UserId != ursula.Id));
    }

    [Fact]
    public async Task Long_user_agents_are_cut_to_the_column_length()
    {
        var user = await factory.CreateUserAsync("verbose@example.edu");
        using var client = new PortalClient(factory);
        client.Http.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", "Agent/" + new string('x', 5000));
        await client.SignInAsync(user.Email!);
        await using var db = factory.NewDbContext();
        var agent = await db.SignInEvents.Where(e => e.UserId == user.Id).Select(e => e.UserAgent).SingleAsync();
        Assert.Equal(SignInEvent.UserAgentMaxLength, agent.Length);
        Assert.StartsWith("Agent/xxx", agent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Purge_job_removes_sign_in_events_older_than_180_days_only()
    {
        var user = await factory.CreateUserAsync("old.timer@example.edu");
        var now = factory.Clock.GetUtcNow();
        await using (var db = factory.NewDbContext())
        {
            db.SignInEvents.Add(SignInEvent.Create(user.Id, now.AddDays(-181), SignInOutcome.Succeeded, null, "old"));
            db.SignInEvents.Add(SignInEvent.Create(user.Id, now.AddDays(-179), SignInOutcome.WrongPassword, null, "recent"));
            await db.SaveChangesAsync();
        }
        var removed = await factory.WithScopeAsync(sp => sp.GetRequiredService<PurgeSignInEventsJob>().RunAsync());
        var again = await factory.WithScopeAsync(sp => sp.GetRequiredService<PurgeSignInEventsJob>().RunAsync());
        Assert.Equal(1, removed);
        Assert.Equal(0, again);
        await using var check = factory.NewDbContext();
        Assert.Equal(["recent"], await check.SignInEvents.Where(e => e.UserId == user.Id).Select(e => e.UserAgent).ToListAsync());
    }

    private static async Task WrongPasswordAsync(PortalClient client, string email)
    {
        using var response = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = email, ["Input.Password"] = "not the password at all" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static List<string> Rows(string html)
    {
        var table = TablePattern().Match(html);
        return table.Success ? [.. RowPattern().Matches(table.Groups[1].Value).Select(m => m.Groups[1].Value)] : [];
    }

    [GeneratedRegex("id=\"sign-ins\">.*?<tbody>(.*?)</tbody>", RegexOptions.Singleline)]
    private static partial Regex TablePattern();

    [GeneratedRegex("<tr[^>]*>(.*?)</tr>", RegexOptions.Singleline)]
    private static partial Regex RowPattern();
}
