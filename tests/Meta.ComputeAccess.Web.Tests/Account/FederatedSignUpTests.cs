using System.Net;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>A first sign-in through a provider creates the account from what the provider vouches for.</summary>
public sealed class FederatedSignUpTests(FederatedPortalFactory portal) : IClassFixture<FederatedPortalFactory>
{
    private static Dictionary<string, string> Missing(string? email = null)
    {
        var fields = new Dictionary<string, string> { ["Input.Country"] = "US", ["Input.TimeZoneId"] = "America/Chicago", ["Input.ResearchFields"] = "Computer vision" };
        if (email is not null)
        {
            fields["Input.Email"] = email;
        }
        return fields;
    }

    [Fact]
    public async Task Sign_in_page_offers_a_button_per_configured_provider()
    {
        using var client = new PortalClient(portal);
        using var response = await client.GetAsync("/Account/Login");
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("Sign in with Demo institution", page, StringComparison.Ordinal);
        Assert.Contains("Sign in with ORCID (demo)", page, StringComparison.Ordinal);
        // The button's post is redirected to the provider: the page's CSP lets the form go there, and nowhere else.
        Assert.Contains($"form-action 'self' {portal.IdentityProvider!.Url};", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task First_sign_in_with_a_verified_address_creates_a_confirmed_account_with_verified_institution_after_a_short_form()
    {
        using var client = new PortalClient(portal);
        var next = await client.SignInThroughProviderAsync(portal, "alice", returnUrl: "/Proposals");
        Assert.StartsWith("/Account/ExternalSignup", next, StringComparison.Ordinal);

        // What the provider said is filled in; nothing exists yet.
        var form = await client.GetPageAsync(next);
        Assert.Contains("Alice Nakamura", form, StringComparison.Ordinal);
        Assert.Contains("Example State University", form, StringComparison.Ordinal);
        Assert.Contains("alice.nakamura@uni.example.edu", form, StringComparison.Ordinal);
        Assert.Contains("confirmed by Demo institution", form, StringComparison.Ordinal);
        Assert.Contains("faculty@uni.example.edu", form, StringComparison.Ordinal);
        await using (var db = portal.NewDbContext())
        {
            Assert.False(await db.Users.AnyAsync(u => u.Email == "alice.nakamura@uni.example.edu"));
        }

        // The country is what the provider did not send: without it the form comes back and nothing is created.
        using (var incomplete = await client.PostFormAsync(next, new Dictionary<string, string> { ["Input.FullName"] = "Alice Nakamura", ["Input.Institution"] = "Example State University" }))
        {
            Assert.Equal(HttpStatusCode.OK, incomplete.StatusCode);
            Assert.Contains("Choose your country.", await incomplete.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var fields = Missing();
        fields["Input.FullName"] = "Alice Nakamura";
        fields["Input.Institution"] = "Example State University";
        using (var created = await client.PostFormAsync(next, fields))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
            Assert.Equal("/Proposals", created.Headers.Location!.OriginalString);
        }
        var profile = await client.GetPageAsync("/Account/Profile");
        Assert.Contains("Alice Nakamura", profile, StringComparison.Ordinal);
        Assert.Contains("id=\"institution-verified\"", profile, StringComparison.Ordinal);

        await using (var db = portal.NewDbContext())
        {
            var user = await db.Users.AsNoTracking().SingleAsync(u => u.Email == "alice.nakamura@uni.example.edu");
            Assert.True(user.EmailConfirmed);
            Assert.Null(user.PasswordHash);
            Assert.Equal("uni.example.edu", user.EmailDomain);
            Assert.True(user.InstitutionVerified);
            Assert.False(user.OrcidIdVerified);
            Assert.Equal(["faculty@uni.example.edu", "member@uni.example.edu"], user.VerifiedAffiliations);
            Assert.Equal("US", user.Country);
            var login = await db.UserLogins.AsNoTracking().SingleAsync(l => l.UserId == user.Id);
            Assert.Equal((TestIdentityProvider.Institution, "alice-7f3a"), (login.LoginProvider, login.ProviderKey));
            // The provider vouched for the address: no confirmation mail.
            Assert.False(await db.OutboxMessages.AnyAsync(m => m.ToAddress == user.Email && m.Kind == AccountEmails.ConfirmKind));
        }

        // The next time the provider's sign-in goes straight in.
        using var again = new PortalClient(portal);
        Assert.Equal("/", await again.SignInThroughProviderAsync(portal, "alice"));
        Assert.Contains("Alice Nakamura", await again.GetPageAsync("/Account/Profile"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Changing_a_verified_institution_by_hand_drops_the_mark()
    {
        using var client = new PortalClient(portal);
        var form = await client.SignInThroughProviderAsync(portal, "hiro");
        var fields = Missing();
        fields["Input.FullName"] = "Hiro Tanaka";
        // Typed differently from what the provider sent: not the provider's word any more.
        fields["Input.Institution"] = "ESU Physics";
        using (var created = await client.PostFormAsync(form, fields))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        }
        await using var db = portal.NewDbContext();
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Email == "hiro.tanaka@uni.example.edu");
        Assert.Equal("ESU Physics", user.Institution);
        Assert.False(user.InstitutionVerified);
        Assert.DoesNotContain("id=\"institution-verified\"", await client.GetPageAsync("/Account/Profile"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task First_sign_in_without_a_verified_address_asks_for_one_and_mails_a_confirmation_link()
    {
        using var client = new PortalClient(portal);
        var form = await client.SignInThroughProviderAsync(portal, "sam");
        Assert.StartsWith("/Account/ExternalSignup", form, StringComparison.Ordinal);
        var fields = Missing();
        fields["Input.FullName"] = "Sam Rivera";
        fields["Input.Institution"] = "Independent";
        using (var noEmail = await client.PostFormAsync(form, fields))
        {
            Assert.Equal(HttpStatusCode.OK, noEmail.StatusCode);
            Assert.Contains("Enter your email address.", await noEmail.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        fields["Input.Email"] = "sam.rivera@research.example.org";
        using (var created = await client.PostFormAsync(form, fields))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
            Assert.StartsWith("/Account/RegisterConfirmation", created.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }
        await using (var db = portal.NewDbContext())
        {
            var user = await db.Users.AsNoTracking().SingleAsync(u => u.Email == "sam.rivera@research.example.org");
            Assert.False(user.EmailConfirmed);
            Assert.True(await db.OutboxMessages.AnyAsync(m => m.ToAddress == user.Email && m.Kind == AccountEmails.ConfirmKind && m.Status == OutboxStatus.Pending));
        }

        // Until the address is confirmed the provider's sign-in does not get in.
        using var early = new PortalClient(portal);
        Assert.Equal("/Account/Login", await early.SignInThroughProviderAsync(portal, "sam"));
        using var refused = await early.GetAsync("/Account/Profile");
        Assert.Equal(HttpStatusCode.Redirect, refused.StatusCode);
    }

    [Fact]
    public async Task First_sign_in_through_orcid_marks_the_orcid_id_verified()
    {
        using var client = new PortalClient(portal);
        var form = await client.SignInThroughProviderAsync(portal, "josiah", TestIdentityProvider.Orcid);
        var page = await client.GetPageAsync(form);
        Assert.Contains("0000-0002-1825-0097", page, StringComparison.Ordinal);
        Assert.Contains("You signed in with this iD through ORCID", page, StringComparison.Ordinal);
        var fields = Missing("josiah.carberry@brown.example.edu");
        fields["Input.FullName"] = "Josiah Carberry";
        fields["Input.Institution"] = "Brown Example University";
        // A different typed iD does not replace the one ORCID vouched for.
        fields["Input.OrcidId"] = "0000-0001-5109-3700";
        using (var created = await client.PostFormAsync(form, fields))
        {
            Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        }
        await using var db = portal.NewDbContext();
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Email == "josiah.carberry@brown.example.edu");
        Assert.Equal("0000-0002-1825-0097", user.OrcidId);
        Assert.True(user.OrcidIdVerified);
        Assert.False(user.InstitutionVerified);
        // ORCID sends no address: the typed one is confirmed by mail.
        Assert.False(user.EmailConfirmed);
        Assert.Equal(TestIdentityProvider.Orcid, (await db.UserLogins.AsNoTracking().SingleAsync(l => l.UserId == user.Id)).LoginProvider);
    }

    [Fact]
    public async Task The_form_without_a_provider_sign_in_in_progress_sends_to_the_sign_in_page()
    {
        using var client = new PortalClient(portal);
        using var response = await client.GetAsync("/Account/ExternalSignup");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/Account/Login", response.Headers.Location!.OriginalString);
    }
}
