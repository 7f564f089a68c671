using System.Net;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>
/// A provider vouches for an address that has a password account: the sign-in is linked only after the person
/// proves the account is theirs, never silently.
/// </summary>
public sealed partial class FederatedLinkingTests(FederatedPortalFactory portal) : IClassFixture<FederatedPortalFactory>
{
    [Fact]
    public async Task Existing_account_is_linked_only_after_its_password_is_given()
    {
        var owner = await portal.CreateUserAsync("amara.okafor@lakeside.example.edu", institution: "Lakeside (typed)");
        using var client = new PortalClient(portal);
        var next = await client.SignInThroughProviderAsync(portal, "amara");
        Assert.Equal("/Account/LinkLogin", next);

        // Not signed in, nothing linked: the provider's word about the address is not enough.
        Assert.Equal(HttpStatusCode.Redirect, (await client.GetAsync("/Account/Profile")).StatusCode);
        Assert.Equal(0, await LoginsOf(owner.Id));
        var page = await client.GetPageAsync(next);
        Assert.Contains("An account with <strong>amara.okafor@lakeside.example.edu</strong> exists", page, StringComparison.Ordinal);

        using (var wrong = await client.PostFormAsync(next, new Dictionary<string, string> { ["Input.Password"] = "not the password at all" }, "/Account/LinkLogin?handler=Password"))
        {
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
            Assert.Contains("Wrong password.", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(0, await LoginsOf(owner.Id));

        using (var right = await client.PostFormAsync(next, new Dictionary<string, string> { ["Input.Password"] = TestUsers.Password }, "/Account/LinkLogin?handler=Password"))
        {
            Assert.Equal(HttpStatusCode.Redirect, right.StatusCode);
            Assert.Equal("/", right.Headers.Location!.OriginalString);
        }
        Assert.Contains("Lakeside Institute of Technology", await client.GetPageAsync("/Account/Profile"), StringComparison.Ordinal);
        await using (var db = portal.NewDbContext())
        {
            Assert.Equal(1, await LoginsOf(owner.Id));
            var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == owner.Id);
            // The institution is now the provider's, and marked so; the password stays.
            Assert.Equal("Lakeside Institute of Technology", user.Institution);
            Assert.True(user.InstitutionVerified);
            Assert.NotNull(user.PasswordHash);
            Assert.True(await db.OutboxMessages.AnyAsync(m => m.ToAddress == owner.Email && m.Kind == NotificationKinds.SecurityLoginLinked));
        }

        // From now on the provider's sign-in goes straight in.
        using var later = new PortalClient(portal);
        Assert.Equal("/", await later.SignInThroughProviderAsync(portal, "amara"));
    }

    [Fact]
    public async Task Existing_account_is_linked_by_a_mailed_link_only_in_the_browser_that_signed_in_with_the_provider()
    {
        var owner = await portal.CreateUserAsync("hiro.tanaka@uni.example.edu");
        using var client = new PortalClient(portal);
        Assert.Equal("/Account/LinkLogin", await client.SignInThroughProviderAsync(portal, "hiro"));
        using (var sent = await client.PostFormAsync("/Account/LinkLogin", [], "/Account/LinkLogin?handler=Mail"))
        {
            Assert.Equal(HttpStatusCode.Redirect, sent.StatusCode);
            Assert.Contains("in this browser", await client.GetPageAsync(sent.Headers.Location!.OriginalString), StringComparison.Ordinal);
        }
        string link;
        await using (var db = portal.NewDbContext())
        {
            var mail = await db.OutboxMessages.SingleAsync(m => m.ToAddress == owner.Email && m.Kind == NotificationKinds.AccountLink);
            link = new Uri(LinkPattern().Match(mail.TextBody).Value).PathAndQuery;
        }
        Assert.Equal(0, await LoginsOf(owner.Id));

        // Someone else's browser (no provider sign-in in it) gets nothing from the link.
        using (var elsewhere = new PortalClient(portal))
        {
            using var refused = await elsewhere.GetAsync(link);
            Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
            Assert.Equal("/Account/Login", refused.Headers.Location!.OriginalString);
            Assert.Equal(0, await LoginsOf(owner.Id));
        }
        // A changed token does nothing either.
        using (var forged = await client.GetAsync(link[..^4] + "AAAA"))
        {
            Assert.Equal(HttpStatusCode.Redirect, forged.StatusCode);
            Assert.Equal(0, await LoginsOf(owner.Id));
        }

        using (var linked = await client.GetAsync(link))
        {
            Assert.Equal(HttpStatusCode.Redirect, linked.StatusCode);
            Assert.Equal("/", linked.Headers.Location!.OriginalString);
        }
        Assert.Equal(1, await LoginsOf(owner.Id));
        Assert.Contains("hiro.tanaka@uni.example.edu", await client.GetPageAsync("/Account/Profile"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unverified_address_of_an_existing_account_gets_the_same_answer_as_a_new_one_and_links_nothing()
    {
        var owner = await portal.CreateUserAsync("sam.rivera@mail.example.com");
        using var client = new PortalClient(portal);
        var form = await client.SignInThroughProviderAsync(portal, "sam");
        // The provider did not vouch for the address: no hint that an account has it.
        Assert.StartsWith("/Account/ExternalSignup", form, StringComparison.Ordinal);
        using var answer = await client.PostFormAsync(form, new Dictionary<string, string>
        {
            ["Input.Email"] = "sam.rivera@mail.example.com",
            ["Input.FullName"] = "Sam Rivera",
            ["Input.Institution"] = "Independent",
            ["Input.Country"] = "MX",
        });
        Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        Assert.StartsWith("/Account/RegisterConfirmation", answer.Headers.Location!.OriginalString, StringComparison.Ordinal);
        await using var db = portal.NewDbContext();
        Assert.Equal(1, await db.Users.CountAsync(u => u.Email == owner.Email));
        Assert.Equal(0, await LoginsOf(owner.Id));
        // The owner is asked, by mail, whether to link it.
        Assert.True(await db.OutboxMessages.AnyAsync(m => m.ToAddress == owner.Email && m.Kind == NotificationKinds.AccountLink));
    }

    [Fact]
    public async Task Unconfirmed_account_linked_by_mail_is_confirmed_and_loses_the_password_set_before()
    {
        // Someone registered the address with a password of their own and never confirmed it.
        var squatted = await portal.CreateUserAsync("grace.okoye@uni.example.edu", confirmed: false);
        using var client = new PortalClient(portal);
        Assert.Equal("/Account/LinkLogin", await client.SignInThroughProviderAsync(portal, "grace"));
        using (var password = await client.PostFormAsync("/Account/LinkLogin", new Dictionary<string, string> { ["Input.Password"] = TestUsers.Password }, "/Account/LinkLogin?handler=Password"))
        {
            Assert.Contains("not confirmed yet", await password.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(0, await LoginsOf(squatted.Id));
        using (await client.PostFormAsync("/Account/LinkLogin", [], "/Account/LinkLogin?handler=Mail"))
        {
        }
        string link;
        await using (var db = portal.NewDbContext())
        {
            var mail = await db.OutboxMessages.SingleAsync(m => m.ToAddress == squatted.Email && m.Kind == NotificationKinds.AccountLink);
            link = new Uri(LinkPattern().Match(mail.TextBody).Value).PathAndQuery;
        }
        using (var linked = await client.GetAsync(link))
        {
            Assert.Equal(HttpStatusCode.Redirect, linked.StatusCode);
        }
        await using (var db = portal.NewDbContext())
        {
            var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == squatted.Id);
            Assert.True(user.EmailConfirmed);
            Assert.Null(user.PasswordHash);
        }
        using var squatter = new PortalClient(portal);
        using var refused = await squatter.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = squatted.Email!, ["Input.Password"] = TestUsers.Password });
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
    }

    private async Task<int> LoginsOf(Guid userId)
    {
        await using var db = portal.NewDbContext();
        return await db.UserLogins.CountAsync(l => l.UserId == userId);
    }

    [GeneratedRegex(@"http://localhost/Account/LinkLogin\S+")]
    private static partial Regex LinkPattern();
}
