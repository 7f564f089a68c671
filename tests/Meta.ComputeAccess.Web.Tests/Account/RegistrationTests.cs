using System.Net;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Tests.Account;

public sealed partial class RegistrationTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private static Dictionary<string, string> Registration(string email, string orcid = "") => new()
    {
        ["Input.FullName"] = "Ada Lovelace",
        ["Input.Institution"] = "Analytical Engine Institute",
        ["Input.Country"] = "GB",
        ["Input.OrcidId"] = orcid,
        ["Input.Email"] = email,
        ["Input.Password"] = "a long enough passphrase",
        ["Input.ConfirmPassword"] = "a long enough passphrase",
    };

    [Fact]
    public async Task Register_confirm_sign_in_and_reach_only_the_pages_of_the_role()
    {
        using var client = new PortalClient(factory);
        using var registered = await client.PostFormAsync("/Account/Register", Registration("ada@engine.example.ac.uk", "0000-0002-1825-0097"));
        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        Assert.StartsWith("/Account/RegisterConfirmation", registered.Headers.Location!.OriginalString, StringComparison.Ordinal);

        // Not confirmed yet: sign-in is refused with a message that says why.
        using var early = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = "ada@engine.example.ac.uk", ["Input.Password"] = "a long enough passphrase" });
        Assert.Equal(HttpStatusCode.OK, early.StatusCode);
        Assert.Contains("Confirm your email address first", await early.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // The confirmation mail is in the outbox, written with the account.
        await using var db = factory.NewDbContext();
        var mail = await db.OutboxMessages.SingleAsync(m => m.ToAddress == "ada@engine.example.ac.uk");
        Assert.Equal(AccountEmails.ConfirmKind, mail.Kind);
        var link = LinkPattern().Match(mail.TextBody).Value;
        Assert.StartsWith("http://localhost/Account/ConfirmEmail?userId=", link, StringComparison.Ordinal);

        var confirmation = await client.GetPageAsync(new Uri(link).PathAndQuery);
        Assert.Contains("Email confirmed", confirmation, StringComparison.Ordinal);

        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Email == "ada@engine.example.ac.uk");
        Assert.True(user.EmailConfirmed);
        Assert.Equal("engine.example.ac.uk", user.EmailDomain);
        Assert.Equal("0000-0002-1825-0097", user.OrcidId);

        await client.SignInAsync("ada@engine.example.ac.uk", "a long enough passphrase");
        Assert.Contains("Ada Lovelace", await client.GetPageAsync("/Account/Profile"), StringComparison.Ordinal);
        using var admin = await client.GetAsync("/Admin/Users");
        Assert.Equal(HttpStatusCode.Redirect, admin.StatusCode);
        Assert.StartsWith("/Account/AccessDenied", admin.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_orcid_is_refused_beside_the_field_and_nothing_is_saved()
    {
        using var client = new PortalClient(factory);
        using var response = await client.PostFormAsync("/Account/Register", Registration("bad-orcid@example.edu", "0000-0002-1825-0098"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("not a valid ORCID iD", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var db = factory.NewDbContext();
        Assert.False(await db.Users.AnyAsync(u => u.Email == "bad-orcid@example.edu"));
        Assert.False(await db.OutboxMessages.AnyAsync(m => m.ToAddress == "bad-orcid@example.edu"));
    }

    [Fact]
    public async Task Form_post_without_antiforgery_token_is_refused()
    {
        using var client = new PortalClient(factory);
        using var content = new FormUrlEncodedContent(Registration("csrf@example.edu"));
        using var response = await client.Http.PostAsync(new Uri("/Account/Register", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await using var db = factory.NewDbContext();
        Assert.False(await db.Users.AnyAsync(u => u.Email == "csrf@example.edu"));
    }

    [Fact]
    public async Task Password_reset_link_sets_a_new_password_once()
    {
        await factory.CreateUserAsync("forgetful@example.edu");
        using var client = new PortalClient(factory);
        using var asked = await client.PostFormAsync("/Account/ForgotPassword", new Dictionary<string, string> { ["Email"] = "forgetful@example.edu" });
        Assert.Equal(HttpStatusCode.Redirect, asked.StatusCode);

        await using var db = factory.NewDbContext();
        var mail = await db.OutboxMessages.SingleAsync(m => m.ToAddress == "forgetful@example.edu" && m.Kind == AccountEmails.ResetKind);
        var path = new Uri(LinkPattern().Match(mail.TextBody).Value).PathAndQuery;
        var fields = new Dictionary<string, string> { ["Input.Password"] = "a brand new passphrase", ["Input.ConfirmPassword"] = "a brand new passphrase" };
        var html = await client.GetPageAsync(path);
        fields["Input.UserId"] = HiddenValue(html, "Input.UserId");
        fields["Input.Code"] = HiddenValue(html, "Input.Code");
        using var reset = await client.PostFormAsync(path, fields, "/Account/ResetPassword");
        Assert.Equal(HttpStatusCode.Redirect, reset.StatusCode);
        await client.SignInAsync("forgetful@example.edu", "a brand new passphrase");

        using var again = await client.PostFormAsync(path, new Dictionary<string, string>(fields) { ["Input.Password"] = "yet another passphrase", ["Input.ConfirmPassword"] = "yet another passphrase" }, "/Account/ResetPassword");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("not valid any more", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("too short")]
    [InlineData("aaaaaaaaaaaaaaaaaaaa")]
    [InlineData("abcabcabcabcabc")]
    [InlineData("password1234")]
    [InlineData("qwertyuiopasdf")]
    [InlineData("winter summer1")]
    public async Task Register_and_reset_refuse_a_weak_password_beside_the_field_in_the_same_words_and_change_nothing(string password)
    {
        var expected = Assert.IsType<string>(PasswordRules.Problem(password));
        var slug = Guid.NewGuid().ToString("N")[..8];
        var taken = await factory.CreateUserAsync($"weak-taken-{slug}@example.edu");
        using var client = new PortalClient(factory);

        // A new address and one that has an account get the same answer: the rule is checked before anything else.
        foreach (var email in new[] { $"weak-new-{slug}@example.edu", taken.Email! })
        {
            var form = Registration(email);
            form["Input.Password"] = form["Input.ConfirmPassword"] = password;
            using var registered = await client.PostFormAsync("/Account/Register", form);
            Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
            Assert.Equal(expected, PasswordFieldMessage(await registered.Content.ReadAsStringAsync()));
        }

        using (var reset = await ResetAsync(client, taken.Email!, password))
        {
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
            var html = await reset.Content.ReadAsStringAsync();
            Assert.Contains(WebUtility.HtmlEncode(PasswordRules.Hint), html, StringComparison.Ordinal);
            Assert.Equal(expected, PasswordFieldMessage(html));
        }
        await using var db = factory.NewDbContext();
        Assert.False(await db.Users.AnyAsync(u => u.Email == $"weak-new-{slug}@example.edu"));
        await client.SignInAsync(taken.Email!);
    }

    [Fact]
    public void A_common_password_is_refused_for_being_built_from_common_passwords()
    {
        Assert.Equal("This password is too easy to guess: it is built from common passwords. Add a word or two that have nothing to do with you.",
            PasswordRules.Problem("password1234"));
    }

    [Fact]
    public async Task Identitys_own_password_check_uses_the_same_rules_and_words()
    {
        var options = factory.Services.GetRequiredService<IOptions<IdentityOptions>>().Value.Password;
        Assert.Equal((PasswordRules.MinimumLength, PasswordRules.MinimumDistinctCharacters), (options.RequiredLength, options.RequiredUniqueChars));

        var errors = await factory.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<PortalUser>>();
            var user = new PortalUser { UserName = "identity-check@example.edu", Email = "identity-check@example.edu", CreatedAt = factory.Clock.GetUtcNow() };
            return (await users.CreateAsync(user, "aaaaaaaaaaaaaaaa")).Errors.Select(e => e.Description).ToList();
        });

        Assert.Equal([PasswordRules.TooFewDistinct], errors);
    }

    [Fact]
    public async Task A_password_made_of_the_persons_own_name_and_address_is_refused_on_register_and_reset()
    {
        const string password = "adalovelace.engine";
        // Not guessable for anyone else: only the person's own words make it so.
        Assert.Null(PasswordRules.Problem(password));
        Assert.NotNull(PasswordRules.Problem(password, ["Ada Lovelace", "ada@engine.example.ac.uk"]));

        using var client = new PortalClient(factory);
        var form = Registration("ada@engine.example.ac.uk");
        form["Input.Password"] = form["Input.ConfirmPassword"] = password;
        using (var registered = await client.PostFormAsync("/Account/Register", form))
        {
            Assert.Contains("it contains your name or email address", PasswordFieldMessage(await registered.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        }

        // Reset knows the account, not the form: Identity's validator checks against the account's name and address.
        var owner = await factory.CreateUserAsync("ada.lovelace@engine.example.org");
        using var reset = await ResetAsync(client, owner.Email!, "adalovelace.engine");
        Assert.Contains("it contains your name or email address", PasswordFieldMessage(await reset.Content.ReadAsStringAsync()), StringComparison.Ordinal);
    }

    [Fact]
    public void The_demo_and_test_passwords_meet_the_rules()
    {
        Assert.Null(PasswordRules.Problem(Meta.ComputeAccess.Demo.DemoSeeder.Password, ["Priya Raman", "admin@example.org"]));
        Assert.Null(PasswordRules.Problem(TestUsers.Password, ["owner", "owner@matrix.example.edu"]));
        Assert.InRange(Zxcvbn.Zxcvbn.MatchPassword(Meta.ComputeAccess.Demo.DemoSeeder.Password, []).Score, PasswordRules.MinimumScore, 4);
    }

    /// <summary>Asks for a reset link for <paramref name="email"/> and posts <paramref name="password"/> with it.</summary>
    private async Task<HttpResponseMessage> ResetAsync(PortalClient client, string email, string password)
    {
        using (await client.PostFormAsync("/Account/ForgotPassword", new Dictionary<string, string> { ["Email"] = email }))
        {
        }
        await using var db = factory.NewDbContext();
        var mail = await db.OutboxMessages.OrderByDescending(m => m.CreatedAt).FirstAsync(m => m.ToAddress == email && m.Kind == AccountEmails.ResetKind);
        var path = new Uri(LinkPattern().Match(mail.TextBody).Value).PathAndQuery;
        var html = await client.GetPageAsync(path);
        return await client.PostFormAsync(path, new Dictionary<string, string>
        {
            ["Input.UserId"] = HiddenValue(html, "Input.UserId"), ["Input.Code"] = HiddenValue(html, "Input.Code"),
            ["Input.Password"] = password, ["Input.ConfirmPassword"] = password,
        }, "/Account/ResetPassword");
    }

    /// <summary>The message shown beside the password field (not in the page's summary).</summary>
    private static string PasswordFieldMessage(string html) =>
        WebUtility.HtmlDecode(Regex.Match(html, "data-valmsg-for=\"Input.Password\"[^>]*>(.*?)</span>", RegexOptions.Singleline).Groups[1].Value);

    private static string HiddenValue(string html, string name) =>
        WebUtility.HtmlDecode(Regex.Match(html, $"name=\"{Regex.Escape(name)}\" value=\"([^\"]*)\"").Groups[1].Value);

    [GeneratedRegex(@"http://localhost/Account/\S+")]
    private static partial Regex LinkPattern();
}
