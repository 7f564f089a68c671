using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Notifications;

/// <summary>One notice of a batch (<see cref="Notifier.NotifyEachAsync"/>): to whom, about what, and where it links.</summary>
public sealed record Notice(Guid UserId, string SubjectTitle, string Link, IReadOnlyDictionary<string, string>? Values = null);

/// <summary>Who a notice goes to, for callers that already hold the user (account mail before sign-in).</summary>
public sealed record NotificationRecipient(Guid UserId, string Email, string Name);

/// <summary>
/// How every module tells someone something. In the caller's unit of work it adds the in-app notification and,
/// per the recipient's preference, an outbox email now or a place in tomorrow's digest; nothing is saved here,
/// so the notice exists exactly when the caller's change commits.
/// </summary>
/// <example><code>
/// await notifier.NotifyAsync(teamUserIds, NotificationKinds.ProposalSubmitted, proposal.Title, $"/Proposals/{proposal.Id}",
///     new Dictionary&lt;string, string&gt; { ["call"] = call.Name });
/// await db.SaveChangesAsync();
/// </code></example>
public sealed class Notifier(
    PortalDbContext db,
    EmailOutbox outbox,
    NotificationTemplates templates,
    UnsubscribeTokens tokens,
    IOptions<SmtpOptions> options,
    TimeProvider clock)
{
    public const string PreferencesPath = "/Account/Notifications/Preferences";
    public const string UnsubscribePath = "/Notifications/Unsubscribe";

    private static readonly Dictionary<string, string> NoValues = [];

    /// <summary>Notifies one user. <paramref name="link"/> is portal-relative ("/Proposals/…"); mail gets it absolute.</summary>
    public Task<int> NotifyAsync(Guid userId, string kind, string subjectTitle, string link, IReadOnlyDictionary<string, string>? values = null, CancellationToken cancellationToken = default) =>
        NotifyAsync([userId], kind, subjectTitle, link, values, cancellationToken);

    /// <summary>Notifies each user once, however often they appear (a PI who is also a co-investigator gets one mail).</summary>
    public Task<int> NotifyAsync(IEnumerable<Guid> userIds, string kind, string subjectTitle, string link, IReadOnlyDictionary<string, string>? values = null, CancellationToken cancellationToken = default) =>
        NotifyEachAsync(kind, [.. userIds.Distinct().Select(id => new Notice(id, subjectTitle, link, values))], cancellationToken);

    /// <summary>
    /// Sends notices of one kind, each about its own subject (every reviewer of an assignment run, about their proposals),
    /// looking the recipients up once for all of them. Returns how many notices went to a user with an address.
    /// </summary>
    public async Task<int> NotifyEachAsync(string kind, IReadOnlyCollection<Notice> notices, CancellationToken cancellationToken = default)
    {
        NotificationKinds.Get(kind);
        var ids = notices.Select(n => n.UserId).Distinct().ToList();
        var recipients = await db.Users.AsNoTracking()
            .Where(u => ids.Contains(u.Id) && u.Email != null && u.ClosedAt == null)
            .Select(u => new NotificationRecipient(u.Id, u.Email!, u.FullName))
            .ToDictionaryAsync(r => r.UserId, cancellationToken);
        var modes = await db.NotificationPreferences.AsNoTracking()
            .Where(p => ids.Contains(p.UserId) && p.Kind == kind)
            .ToDictionaryAsync(p => p.UserId, p => p.Mode, cancellationToken);
        var sent = 0;
        foreach (var notice in notices)
        {
            if (recipients.TryGetValue(notice.UserId, out var recipient))
            {
                Add(recipient, kind, notice.SubjectTitle, notice.Link, notice.Values, modes.GetValueOrDefault(recipient.UserId, NotificationMode.Immediate));
                sent++;
            }
        }
        return sent;
    }

    /// <summary>
    /// Mails an address that has no account yet (an invitation): no in-app notice and no preference to consult;
    /// <paramref name="link"/> is portal-relative. Queued in the caller's unit of work.
    /// </summary>
    public void MailAddress(string email, string kind, string subjectTitle, string link, IReadOnlyDictionary<string, string> values)
    {
        NotificationKinds.Get(kind);
        var all = new Dictionary<string, string>(values, StringComparer.Ordinal) { ["name"] = email, ["subject"] = subjectTitle, ["link"] = AbsoluteUrl(link) };
        var message = templates.Render(kind, all, templates.AddressFooter());
        outbox.Queue(kind, null, email, message.Subject, message.Text, message.Html);
    }

    /// <summary>Notifies one user whose address the caller already has (account confirmation and reset).</summary>
    public async Task NotifyAsync(NotificationRecipient recipient, string kind, string subjectTitle, string link, IReadOnlyDictionary<string, string>? values = null, CancellationToken cancellationToken = default)
    {
        var mode = NotificationKinds.IsSecurity(kind)
            ? NotificationMode.Immediate
            : await db.NotificationPreferences.AsNoTracking()
                .Where(p => p.UserId == recipient.UserId && p.Kind == kind)
                .Select(p => (NotificationMode?)p.Mode)
                .SingleOrDefaultAsync(cancellationToken) ?? NotificationMode.Immediate;
        Add(recipient, kind, subjectTitle, link, values, mode);
    }

    /// <summary>Notifies every admin (admin.* kinds).</summary>
    public Task<int> NotifyAdminsAsync(string kind, string subjectTitle, string link, IReadOnlyDictionary<string, string>? values = null, CancellationToken cancellationToken = default) =>
        NotifyRoleAsync(Roles.Admin, kind, subjectTitle, link, values, cancellationToken);

    /// <summary>Notifies everyone who has <paramref name="role"/> (the compliance officers, the admins).</summary>
    public async Task<int> NotifyRoleAsync(string role, string kind, string subjectTitle, string link, IReadOnlyDictionary<string, string>? values = null, CancellationToken cancellationToken = default)
    {
        var holders = await (from userRole in db.UserRoles
                             join r in db.Roles on userRole.RoleId equals r.Id
                             where r.Name == role
                             select userRole.UserId).ToListAsync(cancellationToken);
        return await NotifyAsync(holders, kind, subjectTitle, link, values, cancellationToken);
    }

    /// <summary>An absolute URL on the portal's configured public base (never the request's Host header).</summary>
    public string AbsoluteUrl(string pathOrUrl) =>
        Uri.TryCreate(pathOrUrl, UriKind.Absolute, out _) && !pathOrUrl.StartsWith('/')
            ? pathOrUrl
            : options.Value.PublicBaseUrl.TrimEnd('/') + "/" + pathOrUrl.TrimStart('/');

    /// <summary>The link in a mail's footer; opens a confirmation page.</summary>
    public string UnsubscribeUrl(Guid userId, string kind) =>
        AbsoluteUrl($"{UnsubscribePath}?token={Uri.EscapeDataString(tokens.Create(userId, kind))}");

    /// <summary>The RFC 8058 one-click URL for the <c>List-Unsubscribe</c> header; mail clients POST to it.</summary>
    public string OneClickUnsubscribeUrl(Guid userId, string kind) =>
        AbsoluteUrl($"{UnsubscribePath}?handler=OneClick&token={Uri.EscapeDataString(tokens.Create(userId, kind))}");

    /// <summary>
    /// Renders only what the delivery shows: a mailed notice gets its full body, footer and unsubscribe links; a notice
    /// for the bell or the digest only its subject and summary (the digest builds its own mail and links).
    /// </summary>
    private void Add(NotificationRecipient recipient, string kind, string subjectTitle, string link, IReadOnlyDictionary<string, string>? values, NotificationMode mode)
    {
        var definition = NotificationKinds.Get(kind);
        if (definition.Security)
        {
            mode = NotificationMode.Immediate;
        }
        var all = new Dictionary<string, string>(values ?? NoValues, StringComparer.Ordinal)
        {
            ["name"] = recipient.Name,
            ["subject"] = subjectTitle,
            ["link"] = AbsoluteUrl(link),
        };
        var delivery = mode switch
        {
            NotificationMode.Immediate => NotificationDelivery.Email,
            NotificationMode.DailyDigest => NotificationDelivery.Digest,
            _ => NotificationDelivery.InAppOnly,
        };
        RenderedHeadline headline;
        if (delivery == NotificationDelivery.Email)
        {
            var unsubscribe = definition.Security ? null : UnsubscribeUrl(recipient.UserId, kind);
            var message = templates.Render(kind, all, templates.Footer(unsubscribe, AbsoluteUrl(PreferencesPath)));
            outbox.Queue(kind, recipient.UserId, recipient.Email, Limit(message.Subject, 300), message.Text, message.Html,
                definition.Security ? null : OneClickUnsubscribeUrl(recipient.UserId, kind));
            headline = new RenderedHeadline(message.Subject, message.Summary);
        }
        else
        {
            headline = templates.Headline(kind, all);
        }
        if (definition.InApp)
        {
            // Only portal-relative links are kept for the bell: the page renders them as local links.
            var localLink = link.StartsWith('/') && !link.StartsWith("//", StringComparison.Ordinal) ? link : null;
            db.Notifications.Add(Notification.Create(recipient.UserId, kind, Limit(headline.Subject, 300), Limit(headline.Summary, 2000), localLink, delivery, clock.GetUtcNow()));
        }
    }

    private static string Limit(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
