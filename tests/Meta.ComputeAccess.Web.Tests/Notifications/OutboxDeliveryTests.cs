using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Meta.ComputeAccess.Web.Tests.Notifications;

/// <summary>The outbox against a real SMTP server process: once, never for a rollback, retried when the server is away,
/// one connection per run, refusals for good failed at once.</summary>
public sealed class OutboxDeliveryTests(SmtpPortalFactory factory) : IClassFixture<SmtpPortalFactory>
{
    [Fact]
    public async Task Queued_message_is_delivered_once_through_smtp_with_subject_text_html_and_link()
    {
        await QueueAsync("once@example.edu", "Your allocation is active", "Open it:\nhttp://localhost/Allocations/7");

        var sent = await RunJobAsync();
        var again = await RunJobAsync();

        Assert.True(sent >= 1);
        Assert.Equal(0, again);
        var mail = Assert.Single(factory.Smtp.MessagesTo("once@example.edu"));
        Assert.Equal("Your allocation is active", mail.Subject);
        Assert.Contains("http://localhost/Allocations/7", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("href=\"http://localhost/Allocations/7\"", mail.HtmlBody, StringComparison.Ordinal);
        await using var db = factory.NewDbContext();
        var row = await db.OutboxMessages.Include(m => m.AttemptHistory).SingleAsync(m => m.ToAddress == "once@example.edu");
        Assert.Equal(OutboxStatus.Sent, row.Status);
        Assert.Equal(OutboxAttemptOutcome.Sent, Assert.Single(row.AttemptHistory).Outcome);
    }

    [Fact]
    public async Task Rolled_back_transaction_mails_nobody()
    {
        await factory.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<PortalDbContext>();
            await using var tx = await db.Database.BeginTransactionAsync();
            sp.GetRequiredService<EmailOutbox>().Queue("test.kind", null, "rolledback@example.edu", "Never", "Never sent");
            await db.SaveChangesAsync();
            await tx.RollbackAsync();
        });

        await RunJobAsync();

        Assert.Empty(factory.Smtp.MessagesTo("rolledback@example.edu"));
        await using var db = factory.NewDbContext();
        Assert.False(await db.OutboxMessages.AnyAsync(m => m.ToAddress == "rolledback@example.edu"));
    }

    [Fact]
    public async Task With_the_smtp_server_stopped_the_message_stays_pending_with_an_attempt_and_after_restart_is_delivered_exactly_once()
    {
        await factory.Smtp.StopAsync();
        try
        {
            await QueueAsync("retry@example.edu", "Review due in 3 days", "Please score it.");

            var sentWhileDown = await RunJobAsync();

            Assert.Equal(0, sentWhileDown);
            await using (var db = factory.NewDbContext())
            {
                var row = await db.OutboxMessages.Include(m => m.AttemptHistory).SingleAsync(m => m.ToAddress == "retry@example.edu");
                Assert.Equal(OutboxStatus.Pending, row.Status);
                var attempt = Assert.Single(row.AttemptHistory);
                Assert.Equal(OutboxAttemptOutcome.Failed, attempt.Outcome);
                Assert.False(string.IsNullOrWhiteSpace(attempt.Error));
                Assert.True(row.NextAttemptAt > factory.Clock.GetUtcNow(), "a failed message waits for its backoff");
            }
        }
        finally
        {
            await factory.Smtp.StartAsync();
        }

        // Before the backoff has passed nothing is tried; after it, the message goes out once.
        Assert.Equal(0, await RunJobAsync());
        factory.Clock.Advance(TimeSpan.FromMinutes(2));
        await RunJobAsync();
        await RunJobAsync();

        Assert.Single(factory.Smtp.MessagesTo("retry@example.edu"));
        await using var after = factory.NewDbContext();
        var sentRow = await after.OutboxMessages.Include(m => m.AttemptHistory).SingleAsync(m => m.ToAddress == "retry@example.edu");
        Assert.Equal(OutboxStatus.Sent, sentRow.Status);
        Assert.Equal([OutboxAttemptOutcome.Failed, OutboxAttemptOutcome.Sent], sentRow.AttemptHistory.OrderBy(a => a.Id).Select(a => a.Outcome));
    }

    [Fact]
    public async Task Two_concurrent_job_runs_send_each_message_once()
    {
        var addresses = Enumerable.Range(1, 40).Select(i => $"concurrent{i}@example.edu").ToList();
        await factory.WithScopeAsync(async sp =>
        {
            var outbox = sp.GetRequiredService<EmailOutbox>();
            foreach (var address in addresses)
            {
                outbox.Queue("test.kind", null, address, "Concurrent", "One of forty");
            }
            await sp.GetRequiredService<PortalDbContext>().SaveChangesAsync();
        });

        // Two scopes = two DbContexts and connections, as two portal instances would run the job.
        var runs = await Task.WhenAll(RunJobAsync(), RunJobAsync());

        Assert.Equal(addresses.Count, runs.Sum());
        var received = factory.Smtp.Messages().Where(m => m.Subject == "Concurrent").ToList();
        Assert.Equal(addresses.Count, received.Count);
        Assert.Equal(addresses.Order(), received.Select(m => ((MailboxAddress)m.To.Single()).Address).Order());
        await using var db = factory.NewDbContext();
        var attempts = await db.OutboxAttempts.Where(a => db.OutboxMessages.Any(m => m.Id == a.MessageId && m.Subject == "Concurrent")).ToListAsync();
        Assert.Equal(addresses.Count, attempts.Count);
        Assert.All(attempts, a => Assert.Equal(OutboxAttemptOutcome.Sent, a.Outcome));
    }

    [Fact]
    public async Task A_refused_recipient_keeps_the_connection_for_the_rest_and_only_a_4xx_refusal_is_tried_again()
    {
        factory.Smtp.Refuse("gone@example.edu", "550 5.1.1 No such mailbox here");
        factory.Smtp.Refuse("full@example.edu", "450 4.2.2 Mailbox full, try later");
        // A second apart, so the claim order (due time, then id) is the order queued: refusals between deliveries.
        foreach (var to in new[] { "first@example.edu", "gone@example.edu", "second@example.edu", "full@example.edu", "third@example.edu" })
        {
            await QueueAsync(to, "One connection", "Five recipients");
            factory.Clock.Advance(TimeSpan.FromSeconds(1));
        }
        var connectionsBefore = factory.Smtp.Connections();

        var sent = await RunJobAsync();

        Assert.Equal(3, sent);
        Assert.Equal(1, factory.Smtp.Connections() - connectionsBefore);
        foreach (var to in new[] { "first@example.edu", "second@example.edu", "third@example.edu" })
        {
            Assert.Single(factory.Smtp.MessagesTo(to));
        }
        await using (var db = factory.NewDbContext())
        {
            var gone = await RowAsync(db, "gone@example.edu");
            Assert.Equal((OutboxStatus.Failed, 1), (gone.Status, gone.Attempts));
            Assert.StartsWith("550 ", Assert.Single(gone.AttemptHistory).Error, StringComparison.Ordinal);
            var full = await RowAsync(db, "full@example.edu");
            Assert.Equal((OutboxStatus.Pending, 1), (full.Status, full.Attempts));
            Assert.StartsWith("450 ", full.LastError, StringComparison.Ordinal);
            Assert.True(full.NextAttemptAt > factory.Clock.GetUtcNow(), "a 4xx refusal waits for its backoff");
        }

        // After the backoff only the 4xx message is tried again; once the mailbox takes mail it is delivered.
        factory.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, await RunJobAsync());
        factory.Smtp.Accept("full@example.edu");
        factory.Clock.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(1, await RunJobAsync());
        factory.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await RunJobAsync());

        Assert.Equal(1, factory.Smtp.RecipientAttempts("gone@example.edu"));
        Assert.Equal(3, factory.Smtp.RecipientAttempts("full@example.edu"));
        Assert.Empty(factory.Smtp.MessagesTo("gone@example.edu"));
        Assert.Single(factory.Smtp.MessagesTo("full@example.edu"));
        await using var after = factory.NewDbContext();
        Assert.Equal(OutboxStatus.Failed, (await RowAsync(after, "gone@example.edu")).Status);
        var delivered = await RowAsync(after, "full@example.edu");
        Assert.Equal(OutboxStatus.Sent, delivered.Status);
        Assert.Equal([OutboxAttemptOutcome.Failed, OutboxAttemptOutcome.Failed, OutboxAttemptOutcome.Sent], delivered.AttemptHistory.OrderBy(a => a.Id).Select(a => a.Outcome));
    }

    [Fact]
    public async Task An_address_that_is_not_one_fails_at_once_without_reaching_the_server_and_is_never_retried()
    {
        await QueueAsync("not an address", "Unparseable", "Never deliverable");
        await QueueAsync("nodomain", "Unparseable", "Never deliverable");
        var connectionsBefore = factory.Smtp.Connections();

        Assert.Equal(0, await RunJobAsync());
        factory.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await RunJobAsync());

        Assert.Equal(0, factory.Smtp.Connections() - connectionsBefore);
        await using var db = factory.NewDbContext();
        var rows = await db.OutboxMessages.Include(m => m.AttemptHistory).Where(m => m.Subject == "Unparseable").ToListAsync();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, row =>
        {
            Assert.Equal((OutboxStatus.Failed, 1), (row.Status, row.Attempts));
            Assert.Contains("is not an email address", Assert.Single(row.AttemptHistory).Error, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task A_connection_the_server_drops_is_opened_again_for_the_next_message_and_the_dropped_one_is_retried()
    {
        factory.Smtp.DropConnectionAt("dropped@example.edu");
        foreach (var to in new[] { "before-drop@example.edu", "dropped@example.edu", "after-drop@example.edu" })
        {
            await QueueAsync(to, "Dropped connection", "Three recipients");
            factory.Clock.Advance(TimeSpan.FromSeconds(1));
        }
        var connectionsBefore = factory.Smtp.Connections();

        Assert.Equal(2, await RunJobAsync());

        Assert.Equal(2, factory.Smtp.Connections() - connectionsBefore);
        Assert.Single(factory.Smtp.MessagesTo("before-drop@example.edu"));
        Assert.Single(factory.Smtp.MessagesTo("after-drop@example.edu"));
        await using (var db = factory.NewDbContext())
        {
            var dropped = await RowAsync(db, "dropped@example.edu");
            Assert.Equal((OutboxStatus.Pending, 1), (dropped.Status, dropped.Attempts));
        }
        factory.Smtp.Accept("dropped@example.edu");
        factory.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await RunJobAsync());
        Assert.Single(factory.Smtp.MessagesTo("dropped@example.edu"));
    }

    private static Task<OutboxMessage> RowAsync(PortalDbContext db, string to) =>
        db.OutboxMessages.Include(m => m.AttemptHistory).SingleAsync(m => m.ToAddress == to);

    private Task QueueAsync(string to, string subject, string text) =>
        factory.WithScopeAsync(async sp =>
        {
            sp.GetRequiredService<EmailOutbox>().Queue("test.kind", null, to, subject, text);
            await sp.GetRequiredService<PortalDbContext>().SaveChangesAsync();
        });

    private Task<int> RunJobAsync() => factory.WithScopeAsync(sp => sp.GetRequiredService<OutboxDeliveryJob>().RunAsync());
}
