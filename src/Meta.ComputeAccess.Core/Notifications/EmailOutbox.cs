using System.Net;
using Meta.ComputeAccess.Data;

namespace Meta.ComputeAccess.Notifications;

/// <summary>
/// Queues email in the caller's unit of work. Nothing is sent here: the message becomes real only when the
/// caller's SaveChanges commits, and <see cref="OutboxDeliveryJob"/> delivers it.
/// </summary>
public sealed class EmailOutbox(PortalDbContext db, TimeProvider clock)
{
    /// <summary>Queues a message with a plain-text body; the HTML part is the same text, escaped, with links kept clickable.</summary>
    public OutboxMessage Queue(string kind, Guid? recipient, string to, string subject, string text, string? html = null, string? unsubscribeUrl = null)
    {
        var message = OutboxMessage.Create(kind, recipient, to, subject, text, html ?? ToHtml(text), clock.GetUtcNow(), unsubscribeUrl);
        db.OutboxMessages.Add(message);
        return message;
    }

    private static string ToHtml(string text)
    {
        var lines = text.Split('\n').Select(line =>
        {
            var trimmed = line.TrimEnd('\r');
            return trimmed.StartsWith("http://", StringComparison.Ordinal) || trimmed.StartsWith("https://", StringComparison.Ordinal)
                ? $"<a href=\"{WebUtility.HtmlEncode(trimmed)}\">{WebUtility.HtmlEncode(trimmed)}</a>"
                : WebUtility.HtmlEncode(trimmed);
        });
        return "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>" + string.Join("<br>\n", lines) + "</p></body></html>";
    }
}
