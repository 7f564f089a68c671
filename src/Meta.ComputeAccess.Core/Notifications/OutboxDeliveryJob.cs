using MailKit.Net.Smtp;
using MailKit.Security;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Meta.ComputeAccess.Notifications;

/// <summary>
/// Delivers due outbox messages. Each message is claimed with <c>FOR UPDATE SKIP LOCKED</c> inside its own
/// transaction, so two instances running the job at once never send the same message twice. Every attempt is
/// recorded (<see cref="OutboxAttempt"/>); a failure is retried with backoff until <see cref="OutboxMessage.MaxAttempts"/>.
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
        SmtpClient? smtp = null;
        try
        {
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
                var serverUnreachable = false;
                try
                {
                    var mime = ToMime(message, settings);
                    if (string.IsNullOrWhiteSpace(settings.Host) && !string.IsNullOrWhiteSpace(settings.PickupDirectory))
                    {
                        Directory.CreateDirectory(settings.PickupDirectory);
                        var path = Path.Combine(settings.PickupDirectory, $"{now:yyyyMMdd-HHmmss}-{message.Id:N}.eml");
                        await mime.WriteToAsync(path, cancellationToken);
                    }
                    else
                    {
                        if (smtp is null)
                        {
                            serverUnreachable = true;
                            smtp = await ConnectAsync(settings, cancellationToken);
                            serverUnreachable = false;
                        }
                        await smtp.SendAsync(mime, cancellationToken);
                    }
                    message.MarkSent(clock.GetUtcNow());
                    sent++;
                    LogSent(logger, message.Id, message.Kind);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    message.MarkAttemptFailed(ex.Message, clock.GetUtcNow());
                    LogFailed(logger, ex, message.Id, message.Attempts);
                    smtp?.Dispose();
                    smtp = null;
                }
                await db.SaveChangesAsync(cancellationToken);
                await tx.CommitAsync(cancellationToken);
                if (serverUnreachable)
                {
                    // One failed connection says the server is down: the rest wait for the next run instead of
                    // each spending an attempt on the same refusal.
                    break;
                }
            }
        }
        finally
        {
            if (smtp is not null)
            {
                if (smtp.IsConnected)
                {
                    await smtp.DisconnectAsync(true, CancellationToken.None);
                }
                smtp.Dispose();
            }
        }
        return sent;
    }

    private static async Task<SmtpClient> ConnectAsync(SmtpOptions settings, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(settings.Host))
        {
            throw new InvalidOperationException("No SMTP host is configured (Smtp:Host) and no pickup directory (Smtp:PickupDirectory).");
        }
        var client = new SmtpClient { Timeout = 15_000 };
        try
        {
            var tls = Enum.TryParse<SecureSocketOptions>(settings.TlsMode, ignoreCase: true, out var mode) ? mode : SecureSocketOptions.StartTlsWhenAvailable;
            await client.ConnectAsync(settings.Host, settings.Port, tls, cancellationToken);
            if (!string.IsNullOrEmpty(settings.UserName))
            {
                await client.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellationToken);
            }
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static MimeMessage ToMime(OutboxMessage message, SmtpOptions settings)
    {
        var mime = new MimeMessage();
        mime.From.Add(new MailboxAddress(settings.FromName, settings.FromAddress));
        mime.To.Add(MailboxAddress.Parse(message.ToAddress));
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivered outbox message {MessageId} ({Kind})")]
    private static partial void LogSent(ILogger logger, Guid messageId, string kind);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery of outbox message {MessageId} failed (attempt {Attempts})")]
    private static partial void LogFailed(ILogger logger, Exception ex, Guid messageId, int attempts);
}
