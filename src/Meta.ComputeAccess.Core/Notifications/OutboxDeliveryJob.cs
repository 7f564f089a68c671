using System.Diagnostics.CodeAnalysis;
using MailKit.Net.Smtp;
using MailKit.Security;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Meta.ComputeAccess.Notifications;

/// <summary>
/// Delivers due outbox messages over one SMTP connection per run. Each message is claimed with <c>FOR UPDATE SKIP
/// LOCKED</c> inside its own transaction, so two instances running the job at once never send the same message twice.
/// Every attempt is recorded (<see cref="OutboxAttempt"/>). A refusal for one message (a 4xx or 5xx reply to its
/// recipient) leaves the connection to the others; only a broken connection is opened again. What can never work (an
/// address that is not one, a 5xx reply) fails the message at once; what may work later (a 4xx reply, a network error)
/// is retried with backoff until <see cref="OutboxMessage.MaxAttempts"/>.
/// </summary>
public sealed partial class OutboxDeliveryJob(
    PortalDbContext db,
    TimeProvider clock,
    IOptions<SmtpOptions> options,
    ILogger<OutboxDeliveryJob> logger)
{
    /// <summary>Sends up to <paramref name="batchSize"/> due messages; returns how many were sent.</summary>
    public async Task<int> RunAsync(int batchSize = 200, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        var sent = 0;
        await using var connection = new Connection(settings);
        for (var i = 0; i < batchSize; i++)
        {
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
            var now = clock.GetUtcNow();
            var message = await db.OutboxMessages
                .FromSql($"""
                    SELECT * FROM outbox_messages
                    WHERE status = 'Pending' AND next_attempt_at <= {now}
                    ORDER BY next_attempt_at, id
                    LIMIT 1
                    FOR UPDATE SKIP LOCKED
                    """)
                .SingleOrDefaultAsync(cancellationToken);
            if (message is null)
            {
                break;
            }
            var outcome = await DeliverAsync(message, settings, connection, now, cancellationToken);
            switch (outcome)
            {
                case { Error: null }:
                    message.MarkSent(clock.GetUtcNow());
                    sent++;
                    LogSent(logger, message.Id, message.Kind);
                    break;
                case { Error: { } refusal, Permanent: true }:
                    message.MarkRefused(refusal, clock.GetUtcNow());
                    LogRefused(logger, message.Id);
                    break;
                case { Error: { } failure }:
                    message.MarkAttemptFailed(failure, clock.GetUtcNow());
                    LogFailed(logger, message.Id, message.Attempts);
                    break;
            }
            await db.SaveChangesAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            if (outcome.ServerUnreachable)
            {
                // One failed connection says the server is down: the rest wait for the next run instead of
                // each spending an attempt on the same refusal.
                break;
            }
        }
        return sent;
    }

    /// <summary>How one attempt went: <see cref="Error"/> is null when the server took the message.</summary>
    private sealed record Outcome(string? Error, bool Permanent = false, bool ServerUnreachable = false)
    {
        public static readonly Outcome Delivered = new(Error: null);
    }

    private async Task<Outcome> DeliverAsync(OutboxMessage message, SmtpOptions settings, Connection connection, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!TryParseAddress(message.ToAddress, out var to))
        {
            return new Outcome($"'{message.ToAddress}' is not an email address that mail can be delivered to.", Permanent: true);
        }
        var mime = ToMime(message, to, settings);
        if (string.IsNullOrWhiteSpace(settings.Host) && !string.IsNullOrWhiteSpace(settings.PickupDirectory))
        {
            Directory.CreateDirectory(settings.PickupDirectory);
            await mime.WriteToAsync(Path.Combine(settings.PickupDirectory, $"{now:yyyyMMdd-HHmmss}-{message.Id:N}.eml"), cancellationToken);
            return Outcome.Delivered;
        }
        SmtpClient smtp;
        try
        {
            smtp = await connection.OpenAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogUnreachable(logger, ex);
            return new Outcome(ex.Message, ServerUnreachable: true);
        }
        try
        {
            await smtp.SendAsync(mime, cancellationToken);
            return Outcome.Delivered;
        }
        catch (SmtpCommandException ex)
        {
            // The server answered for this message only (a refused recipient, sender or content); the session goes on
            // unless the server said it is closing it (421) or has gone.
            var code = (int)ex.StatusCode;
            if (ex.StatusCode == SmtpStatusCode.ServiceNotAvailable || !smtp.IsConnected)
            {
                await connection.DropAsync();
            }
            return new Outcome($"{code} {ex.Message}", Permanent: code >= 500);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Network or protocol trouble: the connection cannot be trusted; the next message opens a new one.
            LogConnectionLost(logger, ex, message.Id);
            await connection.DropAsync();
            return new Outcome(ex.Message);
        }
    }

    /// <summary>A single address with a domain, as MimeKit reads it; anything else can never be delivered.</summary>
    internal static bool TryParseAddress(string address, [NotNullWhen(true)] out MailboxAddress? mailbox) =>
        MailboxAddress.TryParse(address, out mailbox) && !string.IsNullOrEmpty(mailbox.Domain);

    private static MimeMessage ToMime(OutboxMessage message, MailboxAddress to, SmtpOptions settings)
    {
        var mime = new MimeMessage();
        mime.From.Add(new MailboxAddress(settings.FromName, settings.FromAddress));
        mime.To.Add(to);
        mime.Subject = message.Subject;
        mime.MessageId = $"{message.Id:N}@meta-compute-access";
        if (message.UnsubscribeUrl is { Length: > 0 } unsubscribe)
        {
            // RFC 2369 and RFC 8058: mail clients show an unsubscribe button that POSTs to this URL.
            mime.Headers.Add("List-Unsubscribe", $"<{unsubscribe}>");
            mime.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
        }
        var body = new BodyBuilder { TextBody = message.TextBody, HtmlBody = message.HtmlBody };
        mime.Body = body.ToMessageBody();
        return mime;
    }

    /// <summary>The run's SMTP session: opened on the first message that needs it, opened again only after it broke.</summary>
    private sealed class Connection(SmtpOptions settings) : IAsyncDisposable
    {
        private SmtpClient? client;

        public async Task<SmtpClient> OpenAsync(CancellationToken cancellationToken)
        {
            if (client is { IsConnected: true })
            {
                return client;
            }
            await DropAsync();
            if (string.IsNullOrWhiteSpace(settings.Host))
            {
                throw new InvalidOperationException("No SMTP host is configured (Smtp:Host) and no pickup directory (Smtp:PickupDirectory).");
            }
            var opened = new SmtpClient { Timeout = 15_000 };
            try
            {
                var tls = Enum.TryParse<SecureSocketOptions>(settings.TlsMode, ignoreCase: true, out var mode) ? mode : SecureSocketOptions.StartTlsWhenAvailable;
                await opened.ConnectAsync(settings.Host, settings.Port, tls, cancellationToken);
                if (!string.IsNullOrEmpty(settings.UserName))
                {
                    await opened.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellationToken);
                }
            }
            catch
            {
                opened.Dispose();
                throw;
            }
            client = opened;
            return client;
        }

        public async Task DropAsync()
        {
            if (client is null)
            {
                return;
            }
            if (client.IsConnected)
            {
                try
                {
                    await client.DisconnectAsync(true, CancellationToken.None);
                }
                catch (Exception ex) when (ex is IOException or SmtpProtocolException or SmtpCommandException)
                {
                    // Saying goodbye to a server that has gone is allowed to fail.
                }
            }
            client.Dispose();
            client = null;
        }

        public async ValueTask DisposeAsync() => await DropAsync();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivered outbox message {MessageId} ({Kind})")]
    private static partial void LogSent(ILogger logger, Guid messageId, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery of outbox message {MessageId} failed (attempt {Attempts}); it will be tried again")]
    private static partial void LogFailed(ILogger logger, Guid messageId, int attempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox message {MessageId} was refused for good (address or 5xx reply); marked failed")]
    private static partial void LogRefused(ILogger logger, Guid messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The SMTP connection broke while sending outbox message {MessageId}; the next message opens a new one")]
    private static partial void LogConnectionLost(ILogger logger, Exception ex, Guid messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The SMTP server could not be reached; the remaining messages wait for the next run")]
    private static partial void LogUnreachable(ILogger logger, Exception ex);
}
