using System.Net;
using System.Text.RegularExpressions;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Accounts;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>
/// The account forms answer an address with an account exactly as one without (docs/decisions/0006-sign-in-answers-alike.md):
/// same status, headers and page (but for the typed address), and the same expensive work, seen here by counting the
/// password hasher's calls on each path.
/// </summary>
public sealed partial class AccountEnumerationTests(AccountEnumerationTests.CountingPortal factory) : IClassFixture<AccountEnumerationTests.CountingPortal>
{
    private const string WrongPassword = "not the password at all";

    public sealed class CountingPortal : PortalFactory
    {
        public HasherCalls Calls { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.AddScoped<IPasswordHasher<PortalUser>>(sp =>
                new CountingHasher(new PasswordHasher<PortalUser>(sp.GetRequiredService<IOptions<PasswordHasherOptions>>()), Calls)));
        }
    }

    public sealed class HasherCalls
    {
        private int hashes;
        private int verifications;

        public int Hashes => Volatile.Read(ref hashes);

        public int Verifications => Volatile.Read(ref verifications);

        public void Hashed() => Interlocked.Increment(ref hashes);

        public void Verified() => Interlocked.Increment(ref verifications);
    }

    /// <summary>Identity's hasher, counting its calls.</summary>
    private sealed class CountingHasher(IPasswordHasher<PortalUser> inner, HasherCalls calls) : IPasswordHasher<PortalUser>
    {
        public string HashPassword(PortalUser user, string password)
        {
            calls.Hashed();
            return inner.HashPassword(user, password);
        }

        public PasswordVerificationResult VerifyHashedPassword(PortalUser user, string hashedPassword, string providedPassword)
        {
            calls.Verified();
            return inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }

    private static Dictionary<string, string> Registration(string email) => new()
    {
        ["Input.FullName"] = "Mary Somerville",
        ["Input.Institution"] = "Royal Institution",
        ["Input.Country"] = "GB",
        ["Input.OrcidId"] = "",
        ["Input.Email"] = email,
        ["Input.Password"] = "tides of the connexion 1834",
        ["Input.ConfirmPassword"] = "tides of the connexion 1834",
    };

    [Fact]
    public async Task Registering_a_taken_address_answers_like_a_new_one_does_the_same_work_and_mails_the_owner()
    {
        var owner = await factory.CreateUserAsync("somerville.taken@example.ac.uk");

        var (fresh, freshHashes) = await RegisterAsync("somerville.new@example.ac.uk");
        var (taken, takenHashes) = await RegisterAsync(owner.Email!);

        Assert.Equal(fresh.Status, taken.Status);
        Assert.Equal(fresh.Headers, taken.Headers);
        Assert.Equal(fresh.Page, taken.Page);
        Assert.Equal("/Account/RegisterConfirmation?email=EMAIL", fresh.Location);
        Assert.Contains("We sent a message to <strong>EMAIL</strong>", fresh.Page, StringComparison.Ordinal);
        // Both paths hash the chosen password once (the taken one throws its hash away).
        Assert.Equal(1, freshHashes);
        Assert.Equal(freshHashes, takenHashes);

        await using var db = factory.NewDbContext();
        Assert.Equal(1, await db.Users.CountAsync(u => u.Email == owner.Email));
        var notice = await db.OutboxMessages.SingleAsync(m => m.ToAddress == owner.Email);
        Assert.Equal(NotificationKinds.AccountRegistrationAttempt, notice.Kind);
        Assert.Contains("already has an account", notice.TextBody, StringComparison.Ordinal);
        Assert.Contains("http://localhost/Account/Login", notice.TextBody, StringComparison.Ordinal);
        Assert.Equal(AccountEmails.ConfirmKind, (await db.OutboxMessages.SingleAsync(m => m.ToAddress == "somerville.new@example.ac.uk")).Kind);
    }

    [Fact]
    public async Task Registering_an_address_whose_account_is_unconfirmed_mails_a_fresh_confirmation_link()
    {
        var pending = await factory.CreateUserAsync("pending.owner@example.ac.uk", confirmed: false);
        var (answer, _) = await RegisterAsync(pending.Email!);
        Assert.Equal(HttpStatusCode.Redirect, answer.Status);
        await using var db = factory.NewDbContext();
        Assert.Equal(AccountEmails.ConfirmKind, (await db.OutboxMessages.SingleAsync(m => m.ToAddress == pending.Email)).Kind);
        Assert.Equal(1, await db.Users.CountAsync(u => u.Email == pending.Email));
    }

    [Fact]
    public async Task A_wrong_password_gets_the_same_answer_and_work_for_a_confirmed_an_unconfirmed_and_an_unknown_address()
    {
        var confirmed = await factory.CreateUserAsync("known.confirmed@example.edu");
        var unconfirmed = await factory.CreateUserAsync("known.unconfirmed@example.edu", confirmed: false);

        var known = await SignInAsync(confirmed.Email!, WrongPassword);
        var waiting = await SignInAsync(unconfirmed.Email!, WrongPassword);
        var unknown = await SignInAsync("nobody.here@example.edu", WrongPassword);

        foreach (var other in new[] { waiting, unknown })
        {
            Assert.Equal(known.Answer.Status, other.Answer.Status);
            Assert.Equal(known.Answer.Headers, other.Answer.Headers);
            Assert.Equal(known.Answer.Page, other.Answer.Page);
            Assert.Equal(1, other.Verifications);
        }
        Assert.Equal(1, known.Verifications);
        Assert.Contains("Wrong email or password.", known.Answer.Page, StringComparison.Ordinal);
        Assert.DoesNotContain("Confirm your email address first", waiting.Answer.Page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confirm_your_email_first_is_said_only_to_someone_with_the_right_password()
    {
        var unconfirmed = await factory.CreateUserAsync("right.password.unconfirmed@example.edu", confirmed: false);
        var right = await SignInAsync(unconfirmed.Email!, TestUsers.Password);
        Assert.Equal(HttpStatusCode.OK, right.Answer.Status);
        Assert.Contains("Confirm your email address first", right.Answer.Page, StringComparison.Ordinal);
        using var client = new PortalClient(factory);
        using var profile = await client.GetAsync("/Account/Profile");
        Assert.Equal("/Account/Login", profile.Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task An_unknown_address_is_paused_after_as_many_wrong_passwords_as_an_account_and_both_resume_after_the_pause()
    {
        var owner = await factory.CreateUserAsync("paused.owner@example.edu");
        var lockout = factory.Services.GetRequiredService<IOptions<IdentityOptions>>().Value.Lockout;

        var knownAnswers = new List<Answer>();
        var unknownAnswers = new List<Answer>();
        for (var i = 0; i <= lockout.MaxFailedAccessAttempts; i++)
        {
            knownAnswers.Add((await SignInAsync(owner.Email!, WrongPassword + i)).Answer);
            unknownAnswers.Add((await SignInAsync("paused.nobody@example.edu", WrongPassword + i)).Answer);
        }

        Assert.Equal(knownAnswers, unknownAnswers);
        Assert.All(knownAnswers.Take(lockout.MaxFailedAccessAttempts - 1), a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.All(knownAnswers.Skip(lockout.MaxFailedAccessAttempts - 1), a => Assert.Equal("/Account/Lockout", a.Location));
        // Paused: even the right password waits, and the answer is the same as for the unknown address.
        var rightWhilePaused = await SignInAsync(owner.Email!, TestUsers.Password);
        Assert.Equal(unknownAnswers[^1], rightWhilePaused.Answer);

        factory.Clock.Advance(lockout.DefaultLockoutTimeSpan + TimeSpan.FromSeconds(1));
        var afterPause = await SignInAsync(owner.Email!, TestUsers.Password);
        Assert.Equal("/", afterPause.Answer.Location);
        var unknownAfterPause = await SignInAsync("paused.nobody@example.edu", WrongPassword);
        Assert.Equal(HttpStatusCode.OK, unknownAfterPause.Answer.Status);
    }

    /// <summary>What a client can see of an answer, with the typed address and per-response tokens taken out.</summary>
    private sealed record Answer(HttpStatusCode Status, string? Location, string Headers, string Page);

    private async Task<(Answer Answer, int Hashes)> RegisterAsync(string email)
    {
        using var client = new PortalClient(factory);
        var before = factory.Calls.Hashes;
        using var response = await client.PostFormAsync("/Account/Register", Registration(email));
        var hashes = factory.Calls.Hashes - before;
        var answer = await ReadAsync(response, email);
        // The page the redirect leads to is part of the answer too.
        var page = response.Headers.Location is { } location ? await client.GetPageAsync(location.OriginalString) : "";
        return (answer with { Page = answer.Page + Normalize(page, email) }, hashes);
    }

    private async Task<(Answer Answer, int Verifications)> SignInAsync(string email, string password)
    {
        using var client = new PortalClient(factory);
        var before = factory.Calls.Verifications;
        using var response = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = email, ["Input.Password"] = password });
        return (await ReadAsync(response, email), factory.Calls.Verifications - before);
    }

    private static async Task<Answer> ReadAsync(HttpResponseMessage response, string email)
    {
        var headers = string.Join("\n", response.Headers.Concat(response.Content.Headers)
            .Where(h => h.Key is not ("Date" or "Content-Length"))
            .OrderBy(h => h.Key, StringComparer.Ordinal)
            .Select(h => h.Key + ": " + (h.Key == "Set-Cookie" ? string.Join(",", h.Value.Select(v => v.Split('=')[0])) : string.Join(",", h.Value))));
        var location = response.Headers.Location?.OriginalString;
        return new Answer(response.StatusCode, location is null ? null : Normalize(location, email), Normalize(headers, email),
            Normalize(await response.Content.ReadAsStringAsync(), email));
    }

    private static string Normalize(string text, string email) =>
        Token().Replace(text.Replace(email, "EMAIL", StringComparison.Ordinal).Replace(Uri.EscapeDataString(email), "EMAIL", StringComparison.Ordinal), "TOKEN");

    [GeneratedRegex("CfDJ8[A-Za-z0-9_-]+")]
    private static partial Regex Token();
}
