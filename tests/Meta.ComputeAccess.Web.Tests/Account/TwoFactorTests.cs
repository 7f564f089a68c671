using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Account;

public sealed class TwoFactorTests(StaffTwoFactorPortalFactory factory) : IClassFixture<StaffTwoFactorPortalFactory>
{
    [Fact]
    public void Totp_helper_matches_the_RFC_6238_test_vector()
    {
        // RFC 6238 appendix B, SHA-1 key "12345678901234567890" at T = 59 s: 94287082, of which 6 digits are used.
        Assert.Equal("287082", Totp.Code("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", DateTimeOffset.FromUnixTimeSeconds(59)));
        Assert.Equal("081804", Totp.Code("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", DateTimeOffset.FromUnixTimeSeconds(1111111109)));
    }

    [Fact]
    public async Task Researcher_turns_on_two_factor_from_the_QR_page_and_then_signs_in_with_a_code()
    {
        var user = await factory.CreateUserAsync("careful@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(user.Email!);

        var before = await client.GetPageAsync("/Account/TwoFactor");
        Assert.Contains("Two-factor sign-in is <strong>off</strong>", before, StringComparison.Ordinal);
        using (var setup = await client.PostFormAsync("/Account/TwoFactor", [], "/Account/TwoFactor?handler=Setup"))
        {
            Assert.Equal(HttpStatusCode.Redirect, setup.StatusCode);
        }
        var page = await client.GetPageAsync("/Account/TwoFactor");
        var key = TwoFactorSteps.SharedKey(page);
        Assert.NotNull(key);
        Assert.Matches(@"^([a-z2-7]{4} )+[a-z2-7]{1,4}$", key);
        var qr = System.Text.RegularExpressions.Regex.Match(page, "src=\"data:image/png;base64,([^\"]+)\"");
        Assert.True(qr.Success, "the set-up page shows the QR code as a PNG data URI");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], Convert.FromBase64String(WebUtility.HtmlDecode(qr.Groups[1].Value))[..4]);

        using var enable = await client.PostFormAsync("/Account/TwoFactor", new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key) }, "/Account/TwoFactor?handler=Enable");
        Assert.Equal(HttpStatusCode.OK, enable.StatusCode);
        var codes = TwoFactorSteps.RecoveryCodes(await enable.Content.ReadAsStringAsync());
        Assert.Equal(10, codes.Count);
        Assert.Equal(10, codes.Distinct().Count());
        // Shown once: the next visit says how many are left, not what they are.
        var after = await client.GetPageAsync("/Account/TwoFactor");
        Assert.Contains("<strong>10</strong> recovery codes left", after, StringComparison.Ordinal);
        Assert.DoesNotContain(codes[0], after, StringComparison.Ordinal);

        await using (var db = factory.NewDbContext())
        {
            Assert.True(await db.Users.Where(u => u.Id == user.Id).Select(u => u.TwoFactorEnabled).SingleAsync());
            Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.SubjectId == user.Id.ToString() && a.Action == "2fa.enabled"));
        }

        using var other = new PortalClient(factory);
        using (var password = await other.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = user.Email!, ["Input.Password"] = TestUsers.Password }))
        {
            Assert.Equal(HttpStatusCode.Redirect, password.StatusCode);
            Assert.StartsWith("/Account/LoginWith2fa", password.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }
        // The password alone is not a session.
        using (var notYet = await other.GetAsync("/Account/Profile"))
        {
            Assert.Equal("/Account/Login", notYet.Headers.Location!.AbsolutePath);
        }
        using var signedIn = await other.SignInWithCodeAsync(user.Email!, key);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal("/", signedIn.Headers.Location!.OriginalString);
        await other.GetPageAsync("/Account/Profile");
    }

    [Fact]
    public async Task Wrong_code_at_enabling_shows_the_message_beside_the_field_and_changes_nothing()
    {
        var user = await factory.CreateUserAsync("typo@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(user.Email!);
        using (await client.PostFormAsync("/Account/TwoFactor", [], "/Account/TwoFactor?handler=Setup"))
        {
        }
        var key = TwoFactorSteps.SharedKey(await client.GetPageAsync("/Account/TwoFactor"))!;

        foreach (var bad in new[] { Totp.WrongCode(key), "12345", "abcdef", new string('9', 12) })
        {
            using var response = await client.PostFormAsync("/Account/TwoFactor", new Dictionary<string, string> { ["Input.Code"] = bad }, "/Account/TwoFactor?handler=Enable");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Matches("data-valmsg-for=\"Input.Code\"[^>]*>[^<]+<", html);
            Assert.Contains("id=\"shared-key\"", html, StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        Assert.False(await db.Users.Where(u => u.Id == user.Id).Select(u => u.TwoFactorEnabled).SingleAsync());
        Assert.False(await db.AuditEntries.AnyAsync(a => a.SubjectId == user.Id.ToString()));
    }

    [Fact]
    public async Task Wrong_codes_are_refused_and_count_toward_lockout()
    {
        var user = await factory.CreateUserAsync("guessing@example.edu");
        string key;
        using (var owner = new PortalClient(factory))
        {
            await owner.SignInAsync(user.Email!);
            (key, _) = await owner.EnableTwoFactorAsync();
        }

        using var attacker = new PortalClient(factory);
        using (var password = await attacker.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = user.Email!, ["Input.Password"] = TestUsers.Password }))
        {
            Assert.StartsWith("/Account/LoginWith2fa", password.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }
        using (var wrong = await attacker.PostFormAsync("/Account/LoginWith2fa", new Dictionary<string, string> { ["Input.Code"] = Totp.WrongCode(key) }))
        {
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
            Assert.Contains("That code is not right", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal(1, await db.Users.Where(u => u.Id == user.Id).Select(u => u.AccessFailedCount).SingleAsync());
        }
        HttpResponseMessage? last = null;
        for (var i = 0; i < 4; i++)
        {
            last?.Dispose();
            last = await attacker.PostFormAsync("/Account/LoginWith2fa", new Dictionary<string, string> { ["Input.Code"] = Totp.WrongCode(key) });
        }
        Assert.Equal(HttpStatusCode.Redirect, last!.StatusCode);
        Assert.Equal("/Account/Lockout", last.Headers.Location!.OriginalString);
        last.Dispose();

        // Locked: even the right code is refused now.
        using (await attacker.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = user.Email!, ["Input.Password"] = TestUsers.Password }))
        {
        }
        using var right = await attacker.PostFormAsync("/Account/LoginWith2fa", new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key) });
        Assert.Equal("/Account/Lockout", right.Headers.Location?.OriginalString);
        using (var stillOut = await attacker.GetAsync("/Account/Profile"))
        {
            Assert.Equal("/Account/Login", stillOut.Headers.Location!.AbsolutePath);
        }

        await using var check = factory.NewDbContext();
        var outcomes = await check.SignInEvents.Where(e => e.UserId == user.Id).Select(e => e.Outcome).ToListAsync();
        Assert.Equal(4, outcomes.Count(o => o == SignInOutcome.TwoFactorFailed));
        Assert.Contains(SignInOutcome.LockedOut, outcomes);
    }

    [Fact]
    public async Task Recovery_code_signs_in_once_and_its_use_is_audited()
    {
        var user = await factory.CreateUserAsync("lostphone@example.edu");
        IReadOnlyList<string> codes;
        using (var owner = new PortalClient(factory))
        {
            await owner.SignInAsync(user.Email!);
            (_, codes) = await owner.EnableTwoFactorAsync();
        }

        using var first = new PortalClient(factory);
        using (var used = await SignInWithRecoveryCodeAsync(first, user.Email!, " " + codes[3].ToLowerInvariant() + " "))
        {
            Assert.Equal(HttpStatusCode.Redirect, used.StatusCode);
            Assert.Equal("/", used.Headers.Location!.OriginalString);
        }
        await first.GetPageAsync("/Account/Profile");

        using var second = new PortalClient(factory);
        using (var again = await SignInWithRecoveryCodeAsync(second, user.Email!, codes[3]))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Contains("not valid, or it was used before", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var refused = await second.GetAsync("/Account/Profile"))
        {
            Assert.Equal("/Account/Login", refused.Headers.Location!.AbsolutePath);
        }

        await using var db = factory.NewDbContext();
        // A wrong recovery code counts toward lockout like a wrong authenticator code.
        Assert.Equal(1, await db.Users.Where(u => u.Id == user.Id).Select(u => u.AccessFailedCount).SingleAsync());
        var audit = await db.AuditEntries.SingleAsync(a => a.SubjectId == user.Id.ToString() && a.Action == "2fa.recovery-code-used");
        Assert.Contains("9 left", audit.Summary, StringComparison.Ordinal);
        var outcomes = await db.SignInEvents.Where(e => e.UserId == user.Id).Select(e => e.Outcome).ToListAsync();
        Assert.Equal(1, outcomes.Count(o => o == SignInOutcome.RecoveryCodeUsed));
        Assert.Equal(1, outcomes.Count(o => o == SignInOutcome.TwoFactorFailed));
    }

    [Fact]
    public async Task Turning_two_factor_off_needs_a_current_code_and_is_audited()
    {
        var user = await factory.CreateUserAsync("relaxed@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(user.Email!);
        var (key, _) = await client.EnableTwoFactorAsync();

        using (var wrong = await client.PostFormAsync("/Account/TwoFactor", new Dictionary<string, string> { ["Input.Code"] = Totp.WrongCode(key) }, "/Account/TwoFactor?handler=Disable"))
        {
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
            Assert.Contains("That code is not right", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using var db = factory.NewDbContext();
        Assert.True(await db.Users.Where(u => u.Id == user.Id).Select(u => u.TwoFactorEnabled).SingleAsync());

        using (var off = await client.PostFormAsync("/Account/TwoFactor", new Dictionary<string, string> { ["Input.Code"] = Totp.Code(key) }, "/Account/TwoFactor?handler=Disable"))
        {
            Assert.Equal(HttpStatusCode.Redirect, off.StatusCode);
        }
        Assert.False(await db.Users.Where(u => u.Id == user.Id).Select(u => u.TwoFactorEnabled).SingleAsync());
        Assert.Equal(1, await db.AuditEntries.CountAsync(a => a.SubjectId == user.Id.ToString() && a.Action == "2fa.disabled"));
        // This session goes on; the next sign-in needs the password only.
        await client.GetPageAsync("/Account/Profile");
        using var other = new PortalClient(factory);
        using var password = await other.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = user.Email!, ["Input.Password"] = TestUsers.Password });
        Assert.Equal("/", password.Headers.Location!.OriginalString);
        await other.GetPageAsync("/Account/Profile");
    }

    private static async Task<HttpResponseMessage> SignInWithRecoveryCodeAsync(PortalClient client, string email, string code)
    {
        using (var password = await client.PostFormAsync("/Account/Login", new Dictionary<string, string> { ["Input.Email"] = email, ["Input.Password"] = TestUsers.Password }))
        {
            Assert.StartsWith("/Account/LoginWith2fa", password.Headers.Location!.OriginalString, StringComparison.Ordinal);
        }
        return await client.PostFormAsync("/Account/LoginWithRecoveryCode", new Dictionary<string, string> { ["Input.RecoveryCode"] = code });
    }
}
