using System.Net;
using System.Text.RegularExpressions;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.States;
using Hangfire.Storage;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Platform;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Notifications;

/// <summary>Notices through the Notifier: mail from templates over real SMTP, preferences, digest, unsubscribe, the bell.</summary>
public sealed partial class NotificationTests(SmtpPortalFactory factory) : IClassFixture<SmtpPortalFactory>
{
    private static readonly Dictionary<string, string> AllocationValues = new()
    {
        ["hours"] = "1,200",
        ["cluster"] = "Grand Teton",
        ["ends"] = "2027-06-30",
    };

    [Fact]
    public async Task Notice_is_mailed_once_from_its_template_with_text_html_direct_link_and_unsubscribe_and_shows_in_the_app()
    {
        var user = await factory.CreateUserAsync("active@example.edu");

        await NotifyAsync([user.Id], NotificationKinds.AllocationActive, "Protein folding at scale", "/Allocations/42", AllocationValues);
        await DeliverAsync();
        await DeliverAsync();

        var mail = Assert.Single(factory.Smtp.MessagesTo("active@example.edu"));
        Assert.Equal("Allocation active: “Protein folding at scale”", mail.Subject);
        Assert.Contains("1,200 GPU-hours on Grand Teton, until 2027-06-30", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("http://localhost/Allocations/42", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("href=\"http://localhost/Allocations/42\"", mail.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("Protein folding at scale", mail.HtmlBody, StringComparison.Ordinal);
        Assert.Matches(UnsubscribeLink(), mail.TextBody);
        Assert.StartsWith("<http://localhost/Notifications/Unsubscribe?handler=OneClick&token=", mail.Headers["List-Unsubscribe"], StringComparison.Ordinal);
        Assert.Equal("List-Unsubscribe=One-Click", mail.Headers["List-Unsubscribe-Post"]);
        await using var db = factory.NewDbContext();
        var notice = await db.Notifications.SingleAsync(n => n.UserId == user.Id);
        Assert.Equal("/Allocations/42", notice.Link);
        Assert.Equal(NotificationDelivery.Email, notice.Delivery);
    }

    [Fact]
    public async Task Submitted_proposal_mails_the_whole_team_once_each()
    {
        var pi = await factory.CreateUserAsync("pi@team.example.edu");
        var coi = await factory.CreateUserAsync("coi@team.example.edu");

        // The PI appears twice (also listed as a co-investigator): still one mail.
        await NotifyAsync([pi.Id, coi.Id, pi.Id], NotificationKinds.ProposalSubmitted, "Sparse attention for climate models", "/Proposals/7",
            new Dictionary<string, string> { ["call"] = "Spring 2027 call" });
        await DeliverAsync();

        Assert.Single(factory.Smtp.MessagesTo("pi@team.example.edu"));
        var coiMail = Assert.Single(factory.Smtp.MessagesTo("coi@team.example.edu"));
        Assert.Equal("Proposal submitted: “Sparse attention for climate models”", coiMail.Subject);
        Assert.Contains("Spring 2027 call", coiMail.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rolled_back_change_raises_no_notice_and_mails_nobody()
    {
        var user = await factory.CreateUserAsync("rollback-notice@example.edu");

        await factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<PortalDbContext>();
            await using var tx = await db.Database.BeginTransactionAsync();
            await sp.GetRequiredService<Notifier>().NotifyAsync(user.Id, NotificationKinds.DecisionReleased, "Withdrawn idea", "/Proposals/9",
                new Dictionary<string, string> { ["outcome"] = "Awarded" });
            await db.SaveChangesAsync();
            await tx.RollbackAsync();
        });
        await DeliverAsync();

        Assert.Empty(factory.Smtp.MessagesTo("rollback-notice@example.edu"));
        await using var check = factory.NewDbContext();
        Assert.False(await check.Notifications.AnyAsync(n => n.UserId == user.Id));
    }

    [Fact]
    public async Task Only_a_mailed_notice_is_rendered_with_unsubscribe_tokens_a_digest_or_in_app_notice_gets_its_subject_and_summary()
    {
        var digest = await factory.CreateUserAsync("render-digest@example.edu");
        var inApp = await factory.CreateUserAsync("render-inapp@example.edu");
        var mailed = await factory.CreateUserAsync("render-mailed@example.edu");
        await using (var db = factory.NewDbContext())
        {
            db.NotificationPreferences.AddRange(
                NotificationPreference.Create(digest.Id, NotificationKinds.QuotaThreshold, NotificationMode.DailyDigest, factory.Clock.GetUtcNow()),
                NotificationPreference.Create(inApp.Id, NotificationKinds.QuotaThreshold, NotificationMode.Off, factory.Clock.GetUtcNow()));
            await db.SaveChangesAsync();
        }
        // Unsubscribe tokens are data-protected payloads: counting what is protected counts the tokens made.
        var tokens = new CountingDataProtection();
        await using var portal = factory.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddSingleton<IDataProtectionProvider>(tokens)));
        var values = new Dictionary<string, string> { ["percent"] = "80", ["remaining"] = "240" };
        async Task NotifyThroughAsync(Guid[] users)
        {
            await using var scope = portal.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<Notifier>().NotifyAsync(users, NotificationKinds.QuotaThreshold, "Rendered once", "/Allocations/5", values);
            await scope.ServiceProvider.GetRequiredService<PortalDbContext>().SaveChangesAsync();
        }

        await NotifyThroughAsync([digest.Id, inApp.Id]);
        var protectedForDigestAndInApp = tokens.Protected;
        await NotifyThroughAsync([mailed.Id]);

        Assert.Equal(0, protectedForDigestAndInApp);
        Assert.Equal(2, tokens.Protected); // the footer's link and the one-click header
        await using var check = factory.NewDbContext();
        var notices = await check.Notifications.Where(n => n.Title == "80 % of the quota used: “Rendered once”").ToDictionaryAsync(n => n.UserId);
        Assert.Equal(3, notices.Count);
        Assert.All(notices.Values, n => Assert.Contains("240", n.Summary, StringComparison.Ordinal));
        Assert.Equal(NotificationDelivery.Digest, notices[digest.Id].Delivery);
        Assert.Equal(NotificationDelivery.InAppOnly, notices[inApp.Id].Delivery);
        var mail = await check.OutboxMessages.SingleAsync(m => m.Subject == "80 % of the quota used: “Rendered once”");
        Assert.Equal(mailed.Id, mail.RecipientUserId);
        Assert.Matches(UnsubscribeLink(), mail.TextBody);
        Assert.NotNull(mail.UnsubscribeUrl);
    }

    /// <remarks>
    /// The portal's clock starts at the real time and other tests move it, so the notices are raised at pinned times of
    /// day: around the 06:00 digest hour, midday and midnight. Raised after 06:00, they once made the same-day run claim
    /// an empty digest for that day (two digest rows).
    /// </remarks>
    [Theory]
    [InlineData("00:00:00")]
    [InlineData("05:59:59")]
    [InlineData("06:00:00")]
    [InlineData("06:16:00")]
    [InlineData("12:00:00")]
    [InlineData("23:59:59")]
    public async Task Digest_mode_gathers_a_days_notices_into_one_mail_built_once(string raisedAtUtc)
    {
        var address = $"digest-{raisedAtUtc.Replace(":", "", StringComparison.Ordinal)}@example.edu";
        var user = await factory.CreateUserAsync(address);
        using var client = new PortalClient(factory);
        await client.SignInAsync(address);
        var form = await PreferencesFormAsync(client, new()
        {
            [NotificationKinds.QuotaThreshold] = nameof(NotificationMode.DailyDigest),
            [NotificationKinds.AllocationExpiring] = nameof(NotificationMode.DailyDigest),
        });
        using (var saved = await client.PostFormAsync("/Account/Notifications/Preferences", form))
        {
            Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        }
        var start = factory.Clock.GetUtcNow();
        var raisedAt = new DateTimeOffset(start.UtcDateTime.Date + TimeSpan.Parse(raisedAtUtc, System.Globalization.CultureInfo.InvariantCulture), TimeSpan.Zero);
        factory.Clock.Advance((raisedAt > start ? raisedAt : raisedAt.AddDays(1)) - start);

        await NotifyAsync([user.Id], NotificationKinds.QuotaThreshold, "Protein folding at scale", "/Allocations/42",
            new Dictionary<string, string> { ["percent"] = "50", ["remaining"] = "600" });
        await NotifyAsync([user.Id], NotificationKinds.QuotaThreshold, "Protein folding at scale", "/Allocations/42",
            new Dictionary<string, string> { ["percent"] = "80", ["remaining"] = "240" });
        await NotifyAsync([user.Id], NotificationKinds.AllocationExpiring, "Protein folding at scale", "/Allocations/42",
            new Dictionary<string, string> { ["days"] = "30", ["ends"] = "2027-06-30" });
        await DeliverAsync();
        Assert.Empty(factory.Smtp.MessagesTo(address));

        // The same day nothing is gathered; the next morning everything is, in one mail, and only once.
        await RunDigestAsync();
        await DeliverAsync();
        Assert.Empty(factory.Smtp.MessagesTo(address));
        var now = factory.Clock.GetUtcNow();
        factory.Clock.Advance(now.UtcDateTime.Date.AddDays(1).AddHours(6) - now.UtcDateTime);
        await RunDigestAsync();
        await RunDigestAsync();
        await DeliverAsync();

        var digest = Assert.Single(factory.Smtp.MessagesTo(address));
        Assert.Equal("Your Meta Compute Access digest: 3 notices", digest.Subject);
        Assert.Contains("50 % of the quota used: “Protein folding at scale”", digest.TextBody, StringComparison.Ordinal);
        Assert.Contains("80 % of the quota used: “Protein folding at scale”", digest.TextBody, StringComparison.Ordinal);
        Assert.Contains("Allocation expires in 30 days: “Protein folding at scale”", digest.TextBody, StringComparison.Ordinal);
        Assert.Contains("http://localhost/Allocations/42", digest.TextBody, StringComparison.Ordinal);
        Assert.Matches(UnsubscribeLink(), digest.TextBody);
        await using var db = factory.NewDbContext();
        Assert.Equal(1, await db.NotificationDigests.CountAsync(d => d.UserId == user.Id));
        Assert.All(await db.Notifications.Where(n => n.UserId == user.Id).ToListAsync(), n => Assert.NotNull(n.DigestedAt));
    }

    [Fact]
    public async Task The_digest_comes_in_the_morning_of_the_users_own_time_zone()
    {
        var user = await factory.CreateUserAsync("tokyo@example.ac.jp");
        await using (var db = factory.NewDbContext())
        {
            await db.Users.Where(u => u.Id == user.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.TimeZoneId, "Asia/Tokyo"));
        }
        using var client = new PortalClient(factory);
        await client.SignInAsync("tokyo@example.ac.jp");
        using (var saved = await client.PostFormAsync("/Account/Notifications/Preferences",
                   await PreferencesFormAsync(client, new() { [NotificationKinds.AllocationIdle] = nameof(NotificationMode.DailyDigest) })))
        {
            Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        }
        await NotifyAsync([user.Id], NotificationKinds.AllocationIdle, "Quiet project", "/Allocations/7", new Dictionary<string, string> { ["account"] = "quiet-acct" });

        // Tokyo is UTC+9: at 20:30 UTC it is 05:30 there, before the digest hour; at 21:30 UTC, 06:30.
        var now = factory.Clock.GetUtcNow();
        factory.Clock.Advance(now.UtcDateTime.Date.AddDays(1).AddHours(20).AddMinutes(30) - now.UtcDateTime);
        await RunDigestAsync();
        await DeliverAsync();
        Assert.Empty(factory.Smtp.MessagesTo("tokyo@example.ac.jp"));
        factory.Clock.Advance(TimeSpan.FromHours(1));
        await RunDigestAsync();
        await RunDigestAsync();
        await DeliverAsync();
        var digest = Assert.Single(factory.Smtp.MessagesTo("tokyo@example.ac.jp"));
        Assert.Contains("Quiet project", digest.TextBody, StringComparison.Ordinal);
        await using var check = factory.NewDbContext();
        var day = await check.NotificationDigests.Where(d => d.UserId == user.Id).Select(d => d.Day).SingleAsync();
        Assert.Equal(DateOnly.FromDateTime(factory.Clock.GetUtcNow().UtcDateTime.AddHours(9)), day);
    }

    [Fact]
    public async Task Security_mail_ignores_a_digest_or_off_preference()
    {
        var user = await factory.CreateUserAsync("secure@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync("secure@example.edu");

        // The page refuses to turn security mail off, with the message beside the field.
        var form = await PreferencesFormAsync(client, []);
        var next = form.Count / 2;
        form.Add(new($"Input[{next}].Kind", NotificationKinds.SecuritySignIn));
        form.Add(new($"Input[{next}].Mode", nameof(NotificationMode.Off)));
        using (var refused = await client.PostFormAsync("/Account/Notifications/Preferences", form))
        {
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("Security mail is always sent immediately.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        // Even rows written behind the page's back (by hand in SQL) do not hold security mail back.
        await using (var db = factory.NewDbContext())
        {
            Assert.False(await db.NotificationPreferences.AnyAsync(p => p.UserId == user.Id));
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO notification_preferences (user_id, kind, mode, updated_at) VALUES
                ({user.Id}, {NotificationKinds.SecuritySignIn}, 'Off', now()),
                ({user.Id}, {NotificationKinds.AccountReset}, 'DailyDigest', now())
                """);
        }

        await NotifyAsync([user.Id], NotificationKinds.SecuritySignIn, "your account", "/Account/Profile",
            new Dictionary<string, string> { ["when"] = "2027-01-05 09:30 UTC" });
        using (var reset = await client.PostFormAsync("/Account/ForgotPassword", new Dictionary<string, string> { ["Email"] = "secure@example.edu" }))
        {
            Assert.Equal(HttpStatusCode.Redirect, reset.StatusCode);
        }
        await DeliverAsync();

        var mails = factory.Smtp.MessagesTo("secure@example.edu");
        Assert.Contains(mails, m => m.Subject == "New sign-in to your Meta Compute Access account");
        var resetMail = Assert.Single(mails, m => m.Subject == "Reset your Meta Compute Access password");
        Assert.DoesNotMatch(UnsubscribeLink(), resetMail.TextBody);
        Assert.Null(resetMail.Headers["List-Unsubscribe"]);
    }

    [Fact]
    public async Task Saving_preferences_with_one_bad_choice_refuses_them_all_beside_that_choice_and_saves_nothing()
    {
        var user = await factory.CreateUserAsync("prefs-refused@example.edu");
        EmailChoice[] choices =
        [
            new(NotificationKinds.QuotaThreshold, NotificationMode.DailyDigest),
            new("no.such.kind", NotificationMode.Off),
            new(NotificationKinds.AllocationIdle, (NotificationMode)42),
            new(NotificationKinds.AccountReset, NotificationMode.Off),
            new(NotificationKinds.AdminJobFailed, NotificationMode.Off),
        ];
        HashSet<NotificationAudience> researcher = [NotificationAudience.Everyone, NotificationAudience.Researchers];

        var refused = await Assert.ThrowsAsync<DomainException>(() =>
            factory.WithScopeAsync(sp => sp.GetRequiredService<EmailPreferences>().SaveAsync(user.Id, choices, researcher)));

        Assert.Equal(["[1].Mode", "[2].Mode", "[3].Mode", "[4].Mode"], refused.Fields.Keys.Order());
        Assert.Equal("Security mail is always sent immediately.", refused.Fields["[3].Mode"]);
        Assert.Equal("This kind of notice is not offered to you.", refused.Fields["[4].Mode"]);
        await using (var db = factory.NewDbContext())
        {
            Assert.False(await db.NotificationPreferences.AnyAsync(p => p.UserId == user.Id));
        }

        // The good choice alone is saved; a kind listed twice keeps its first choice, as the form's first row.
        await factory.WithScopeAsync(sp => sp.GetRequiredService<EmailPreferences>().SaveAsync(user.Id,
            [choices[0], new(NotificationKinds.QuotaThreshold, NotificationMode.Off)], researcher));
        await using var check = factory.NewDbContext();
        var saved = await check.NotificationPreferences.SingleAsync(p => p.UserId == user.Id);
        Assert.Equal((NotificationKinds.QuotaThreshold, NotificationMode.DailyDigest), (saved.Kind, saved.Mode));
    }

    [Fact]
    public async Task An_admin_resends_a_failed_message_and_the_resend_is_audited()
    {
        var admin = await factory.CreateUserAsync("outbox-admin@example.org", [Roles.Admin]);
        Guid messageId = default;
        await factory.WithScopeAsync(async sp =>
        {
            var message = sp.GetRequiredService<EmailOutbox>().Queue("test.kind", null, "bounced@example.edu", "Bounced once", "Try again");
            message.MarkRefused("550 5.1.1 No such mailbox", factory.Clock.GetUtcNow());
            messageId = message.Id;
            await sp.GetRequiredService<PortalDbContext>().SaveChangesAsync();
        });
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);

        using (var missing = await client.PostFormAsync("/Admin/Outbox", new Dictionary<string, string>(), $"/Admin/Outbox?handler=Resend&id={Guid.NewGuid()}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }
        using (var resent = await client.PostFormAsync("/Admin/Outbox", new Dictionary<string, string>(), $"/Admin/Outbox?handler=Resend&id={messageId}"))
        {
            Assert.Equal(HttpStatusCode.Redirect, resent.StatusCode);
        }
        await DeliverAsync();

        Assert.Single(factory.Smtp.MessagesTo("bounced@example.edu"));
        await using var db = factory.NewDbContext();
        Assert.Equal(OutboxStatus.Sent, (await db.OutboxMessages.SingleAsync(m => m.Id == messageId)).Status);
        var entry = await db.AuditEntries.SingleAsync(a => a.Action == "outbox.resend" && a.SubjectId == messageId.ToString());
        Assert.Equal(admin.Id, entry.ActorUserId);
    }

    [Fact]
    public async Task Unsubscribe_link_works_without_signing_in_and_only_for_its_own_user_and_kind()
    {
        var owner = await factory.CreateUserAsync("unsub-owner@example.edu", [Roles.Reviewer]);
        var other = await factory.CreateUserAsync("unsub-other@example.edu", [Roles.Reviewer]);
        await NotifyAsync([owner.Id, other.Id], NotificationKinds.ReviewAssigned, "Graph networks for materials", "/Reviews/3",
            new Dictionary<string, string> { ["due"] = "2027-02-01" });
        await DeliverAsync();
        var link = UnsubscribeLink().Match(Assert.Single(factory.Smtp.MessagesTo("unsub-owner@example.edu")).TextBody ?? "").Value;
        var path = new Uri(link).PathAndQuery;

        // A changed token is refused with a clear message and changes nothing.
        using var anonymous = new PortalClient(factory);
        var tampered = path[..^6] + (path[^6] == 'A' ? 'B' : 'A') + path[^5..];
        using (var refused = await anonymous.GetAsync(tampered))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("This unsubscribe link is not valid", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        var token = Regex.Match(path, "token=([^&]+)").Groups[1].Value;
        using (var forged = await anonymous.PostFormAsync(path, new Dictionary<string, string> { ["Token"] = Uri.UnescapeDataString(token) + "x" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        }
        await using (var db = factory.NewDbContext())
        {
            Assert.False(await db.NotificationPreferences.AnyAsync(p => p.UserId == owner.Id || p.UserId == other.Id));
        }

        // The real link, anonymous: a confirmation page, then one POST turns off that kind for that user only.
        var confirm = await anonymous.GetPageAsync(path);
        Assert.Contains("A proposal was assigned to you for review", WebUtility.HtmlDecode(confirm), StringComparison.Ordinal);
        using (var done = await anonymous.PostFormAsync(path, new Dictionary<string, string> { ["Token"] = Uri.UnescapeDataString(token) }))
        {
            Assert.Equal(HttpStatusCode.OK, done.StatusCode);
            Assert.Contains("you will no longer get email", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using (var db = factory.NewDbContext())
        {
            var preference = await db.NotificationPreferences.SingleAsync(p => p.UserId == owner.Id);
            Assert.Equal((NotificationKinds.ReviewAssigned, NotificationMode.Off), (preference.Kind, preference.Mode));
            Assert.False(await db.NotificationPreferences.AnyAsync(p => p.UserId == other.Id));
        }

        // Afterwards the owner gets no mail of that kind (still in the app), another kind still mails, the other user still gets it.
        await NotifyAsync([owner.Id, other.Id], NotificationKinds.ReviewAssigned, "Second proposal", "/Reviews/4",
            new Dictionary<string, string> { ["due"] = "2027-02-01" });
        await NotifyAsync([owner.Id], NotificationKinds.ReviewDue, "Graph networks for materials", "/Reviews/3",
            new Dictionary<string, string> { ["due"] = "2027-02-01" });
        await DeliverAsync();
        Assert.DoesNotContain(factory.Smtp.MessagesTo("unsub-owner@example.edu"), m => m.Subject == "Review assigned: “Second proposal”");
        Assert.Contains(factory.Smtp.MessagesTo("unsub-owner@example.edu"), m => m.Subject == "Review due in 3 days: “Graph networks for materials”");
        Assert.Contains(factory.Smtp.MessagesTo("unsub-other@example.edu"), m => m.Subject == "Review assigned: “Second proposal”");
        await using var after = factory.NewDbContext();
        Assert.Equal(NotificationDelivery.InAppOnly, (await after.Notifications.SingleAsync(n => n.UserId == owner.Id && n.Title == "Review assigned: “Second proposal”")).Delivery);
    }

    [Fact]
    public async Task One_click_unsubscribe_from_the_list_unsubscribe_header_turns_off_that_kind()
    {
        var user = await factory.CreateUserAsync("oneclick@example.edu");
        await NotifyAsync([user.Id], NotificationKinds.QuotaProjectedExhaustion, "Protein folding at scale", "/Allocations/42",
            new Dictionary<string, string> { ["date"] = "2027-03-01", ["ends"] = "2027-06-30" });
        await DeliverAsync();
        var header = Assert.Single(factory.Smtp.MessagesTo("oneclick@example.edu")).Headers["List-Unsubscribe"];
        var url = new Uri(Assert.IsType<string>(header).Trim('<', '>')).PathAndQuery;

        using var anonymous = new PortalClient(factory);
        using var wrongBody = new FormUrlEncodedContent([new("something", "else")]);
        using (var refused = await anonymous.Http.PostAsync(new Uri(url, UriKind.Relative), wrongBody))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }
        using var body = new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]);
        using var response = await anonymous.Http.PostAsync(new Uri(url, UriKind.Relative), body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var db = factory.NewDbContext();
        var preference = await db.NotificationPreferences.SingleAsync(p => p.UserId == user.Id);
        Assert.Equal((NotificationKinds.QuotaProjectedExhaustion, NotificationMode.Off), (preference.Kind, preference.Mode));
    }

    [Fact]
    public async Task Bell_count_and_notifications_page_show_only_the_users_own_notifications()
    {
        var mine = await factory.CreateUserAsync("bell-mine@example.edu");
        var theirs = await factory.CreateUserAsync("bell-theirs@example.edu");
        await NotifyAsync([mine.Id], NotificationKinds.DecisionReleased, "My first proposal", "/Proposals/1", new Dictionary<string, string> { ["outcome"] = "Awarded" });
        factory.Clock.Advance(TimeSpan.FromMinutes(1));
        await NotifyAsync([mine.Id], NotificationKinds.DecisionReleased, "My second proposal", "/Proposals/2", new Dictionary<string, string> { ["outcome"] = "Waitlisted" });
        await NotifyAsync([theirs.Id], NotificationKinds.DecisionReleased, "Their secret proposal", "/Proposals/3", new Dictionary<string, string> { ["outcome"] = "Declined" });
        using var client = new PortalClient(factory);
        await client.SignInAsync("bell-mine@example.edu");

        Assert.Equal("2", BellCount(await client.GetPageAsync("/")));
        var page = await client.GetPageAsync("/Notifications");
        Assert.Contains("My first proposal", page, StringComparison.Ordinal);
        Assert.Contains("My second proposal", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Their secret proposal", page, StringComparison.Ordinal);
        Assert.True(page.IndexOf("My second proposal", StringComparison.Ordinal) < page.IndexOf("My first proposal", StringComparison.Ordinal), "newest first");

        // Marking someone else's notification read changes nothing; opening mine marks it read and follows its link.
        await using (var db = factory.NewDbContext())
        {
            var theirsId = await db.Notifications.Where(n => n.UserId == theirs.Id).Select(n => n.Id).SingleAsync();
            using var foreign = await client.PostFormAsync("/Notifications", new Dictionary<string, string>(), $"/Notifications?handler=Read&id={theirsId}");
            Assert.Equal(HttpStatusCode.Redirect, foreign.StatusCode);
            Assert.Null(await db.Notifications.Where(n => n.Id == theirsId).Select(n => n.ReadAt).SingleAsync());
            var firstId = await db.Notifications.Where(n => n.UserId == mine.Id && n.Title.Contains("My first")).Select(n => n.Id).SingleAsync();
            using var open = await client.PostFormAsync("/Notifications", new Dictionary<string, string>(), $"/Notifications?handler=Open&id={firstId}");
            Assert.Equal(HttpStatusCode.Redirect, open.StatusCode);
            Assert.Equal("/Proposals/1", open.Headers.Location?.OriginalString);
        }
        Assert.Equal("1", BellCount(await client.GetPageAsync("/")));

        using (var all = await client.PostFormAsync("/Notifications", new Dictionary<string, string>(), "/Notifications?handler=ReadAll"))
        {
            Assert.Equal(HttpStatusCode.Redirect, all.StatusCode);
        }
        Assert.Null(BellCount(await client.GetPageAsync("/")));
        await using var check = factory.NewDbContext();
        Assert.Null(await check.Notifications.Where(n => n.UserId == theirs.Id).Select(n => n.ReadAt).SingleAsync());
    }

    [Fact]
    public async Task Sign_in_from_a_new_browser_sends_a_security_alert_but_the_first_and_a_known_browser_do_not()
    {
        await factory.CreateUserAsync("alert@example.edu");
        using (var first = new PortalClient(factory))
        {
            await first.SignInAsync("alert@example.edu");
        }
        await DeliverAsync();
        Assert.Empty(factory.Smtp.MessagesTo("alert@example.edu"));

        using var other = new PortalClient(factory);
        await other.SignInAsync("alert@example.edu");
        await DeliverAsync();
        var alert = Assert.Single(factory.Smtp.MessagesTo("alert@example.edu"));
        Assert.Equal("New sign-in to your Meta Compute Access account", alert.Subject);
        Assert.Null(alert.Headers["List-Unsubscribe"]);

        // The same browser again (its device cookie kept) is not news.
        using (await other.PostFormAsync("/", new Dictionary<string, string>(), "/Account/Logout"))
        {
        }
        await other.SignInAsync("alert@example.edu");
        await DeliverAsync();
        Assert.Single(factory.Smtp.MessagesTo("alert@example.edu"));
    }

    [Fact]
    public async Task Notifications_and_preferences_pages_require_sign_in()
    {
        using var anonymous = new PortalClient(factory);
        foreach (var url in new[] { "/Notifications", "/Account/Notifications/Preferences" })
        {
            using var response = await anonymous.GetAsync(url);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Contains("/Account/Login", response.Headers.Location?.OriginalString, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_failed_background_job_notifies_every_admin()
    {
        var admin = await factory.CreateUserAsync("jobs-admin@example.edu", [Roles.Admin]);
        var researcher = await factory.CreateUserAsync("jobs-researcher@example.edu");
        var job = Job.FromExpression<OutboxDeliveryJob>(j => j.RunAsync(200, CancellationToken.None));
        // The filter as Hangfire's server finds it: through the registered filter provider.
        var filter = factory.Services.GetRequiredService<IJobFilterProvider>().GetFilters(job).Select(f => f.Instance).OfType<JobFailureNotifier>().Single();
        var options = new PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = false };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(factory.ConnectionString, options), options);
        using var connection = storage.GetConnection();
        using var transaction = connection.CreateWriteTransaction();

        filter.OnStateApplied(new ApplyStateContext(storage, connection, transaction, new Hangfire.BackgroundJob("4242", job, DateTime.UtcNow),
            new FailedState(new InvalidOperationException("SMTP exploded")), ProcessingState.StateName), transaction);
        filter.OnStateApplied(new ApplyStateContext(storage, connection, transaction, new Hangfire.BackgroundJob("4243", job, DateTime.UtcNow),
            new SucceededState(null, 1, 1), ProcessingState.StateName), transaction);

        await using var db = factory.NewDbContext();
        var notice = await db.Notifications.SingleAsync(n => n.UserId == admin.Id && n.Kind == NotificationKinds.AdminJobFailed);
        // A dot between words is broken by a zero-width space in a notice, so no mail client links it; it reads the same.
        Assert.Equal("Background job failed: “OutboxDeliveryJob.RunAsync”", notice.Title.Replace("\u200B", "", StringComparison.Ordinal));
        Assert.Contains("SMTP exploded", notice.Summary, StringComparison.Ordinal);
        Assert.False(await db.Notifications.AnyAsync(n => n.UserId == researcher.Id));
        Assert.True(await db.OutboxMessages.AnyAsync(m => m.RecipientUserId == admin.Id && m.Kind == NotificationKinds.AdminJobFailed));
    }

    private Task NotifyAsync(Guid[] users, string kind, string subject, string link, IReadOnlyDictionary<string, string> values) =>
        factory.WithScopeAsync(async sp =>
        {
            await sp.GetRequiredService<Notifier>().NotifyAsync(users, kind, subject, link, values);
            await sp.GetRequiredService<PortalDbContext>().SaveChangesAsync();
        });

    private Task DeliverAsync() => factory.WithScopeAsync(sp => sp.GetRequiredService<OutboxDeliveryJob>().RunAsync());

    private Task RunDigestAsync() => factory.WithScopeAsync(sp => sp.GetRequiredService<DailyDigestJob>().RunAsync());

    /// <summary>The preferences form as the page renders it, with some modes changed.</summary>
    private static async Task<List<KeyValuePair<string, string>>> PreferencesFormAsync(PortalClient client, Dictionary<string, string> changes)
    {
        var html = await client.GetPageAsync("/Account/Notifications/Preferences");
        var fields = new List<KeyValuePair<string, string>>();
        foreach (Match m in KindInput().Matches(html))
        {
            var index = m.Groups[1].Value;
            var kind = WebUtility.HtmlDecode(m.Groups[2].Value);
            fields.Add(new($"Input[{index}].Kind", kind));
            fields.Add(new($"Input[{index}].Mode", changes.GetValueOrDefault(kind, nameof(NotificationMode.Immediate))));
        }
        Assert.NotEmpty(fields);
        return fields;
    }

    private static string? BellCount(string html) => BellBadge().Match(html) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>The real (ephemeral) data protection, counting what it protects.</summary>
    private sealed class CountingDataProtection : IDataProtectionProvider
    {
        private readonly EphemeralDataProtectionProvider inner = new();
        private int count;

        public int Protected => Volatile.Read(ref count);

        public IDataProtector CreateProtector(string purpose) => new Protector(this, inner.CreateProtector(purpose));

        private sealed class Protector(CountingDataProtection owner, IDataProtector protector) : IDataProtector
        {
            public IDataProtector CreateProtector(string purpose) => new Protector(owner, protector.CreateProtector(purpose));

            public byte[] Protect(byte[] plaintext)
            {
                Interlocked.Increment(ref owner.count);
                return protector.Protect(plaintext);
            }

            public byte[] Unprotect(byte[] protectedData) => protector.Unprotect(protectedData);
        }
    }

    [GeneratedRegex(@"http://localhost/Notifications/Unsubscribe\?token=\S+")]
    private static partial Regex UnsubscribeLink();

    [GeneratedRegex("name=\"Input\\[(\\d+)\\]\\.Kind\" value=\"([^\"]+)\"")]
    private static partial Regex KindInput();

    [GeneratedRegex("id=\"notification-count\">([^<]+)<")]
    private static partial Regex BellBadge();
}
