using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Terms;

/// <summary>The current version of a terms document, as a page shows it.</summary>
public sealed record CurrentTerms(Guid Id, int Version, string TextMarkdown, string Summary, DateTimeOffset PublishedAt);

/// <summary>
/// Versioned terms: admins publish a new version of the terms of use or of a call's award terms (never edit one);
/// users accept the current terms of use (the portal asks before anything else until they do); a PI accepts the call's
/// award terms with the award (<see cref="CallAwardTerms"/>). Every publication and acceptance is audited.
/// </summary>
public sealed class PortalTerms(PortalDbContext db, AuditLog audit, UserSessions sessions, TimeProvider clock)
{
    private const string Conflict = "Another version of these terms was published at the same moment: reload the page and publish again if still needed.";

    /// <summary>The current version (the newest), or null when none was published.</summary>
    public Task<CurrentTerms?> CurrentAsync(TermsKind kind, Guid? callId, CancellationToken cancellationToken) =>
        db.TermsDocuments.AsNoTracking().Where(d => d.Kind == kind && d.CallId == callId).OrderByDescending(d => d.Version)
            .Select(d => new CurrentTerms(d.Id, d.Version, d.TextMarkdown, d.Summary, d.PublishedAt)).FirstOrDefaultAsync(cancellationToken);

    /// <summary>
    /// What every request of a signed-in user asks first: is the session still on, are there terms of use to accept,
    /// and how many notifications are unread (the bell every page shows).
    /// </summary>
    /// <param name="TermsOfUseToAccept">The current terms of use when the user has not accepted them (the portal then asks first); null when there is nothing to accept.</param>
    /// <param name="UnreadNotifications">The user's unread notifications as the request began (marking read is a post that redirects).</param>
    public sealed record SignedInCheck(bool SessionActive, Guid? TermsOfUseToAccept, int UnreadNotifications);

    private sealed record SessionAndTerms(UserSessions.State Session, Guid? Pending, int Unread);

    // The three questions in one round trip, compiled once: it runs on every page a signed-in user opens.
    private static readonly Func<PortalDbContext, Guid, CancellationToken, Task<SessionAndTerms?>> FindSessionAndTerms = EF.CompileAsyncQuery(
        (PortalDbContext context, Guid sessionId, CancellationToken _) => context.UserSessions.AsNoTracking()
            .Where(s => s.Id == sessionId)
            .Select(s => new SessionAndTerms(
                new UserSessions.State(s.UserId, s.LastSeenAt, s.EndedAt),
                context.TermsDocuments.Where(d => d.Kind == TermsKind.TermsOfUse && d.CallId == null).OrderByDescending(d => d.Version).Take(1)
                    .Where(d => !context.TermsAcceptances.Any(a => a.DocumentId == d.Id && a.UserId == s.UserId))
                    .Select(d => (Guid?)d.Id).FirstOrDefault(),
                // The partial index of unread notifications (ix_notifications_unread).
                context.Notifications.Count(n => n.UserId == s.UserId && n.ReadAt == null)))
            .SingleOrDefault());

    /// <summary>
    /// Checks the request's session (<see cref="UserSessions.IsActiveAsync"/>), looks up the terms of use
    /// <paramref name="userId"/> has yet to accept and counts their unread notifications, in one query.
    /// </summary>
    public async Task<SignedInCheck> CheckSignedInAsync(Guid sessionId, Guid userId, CancellationToken cancellationToken)
    {
        var found = await FindSessionAndTerms(db, sessionId, cancellationToken);
        var active = await sessions.IsActiveAsync(found?.Session, sessionId, userId, cancellationToken);
        return new SignedInCheck(active, active ? found!.Pending : null, active ? found!.Unread : 0);
    }

    /// <summary>Publishes the next version; the previous ones stay as they were. Returns its number.</summary>
    public Task<int> PublishAsync(TermsKind kind, Guid? callId, string? text, string? summary, Guid admin, CancellationToken cancellationToken) =>
        db.SaveAsync(async () =>
        {
            string subject;
            if (kind == TermsKind.AwardTerms)
            {
                subject = await db.Calls.Where(c => c.Id == callId).Select(c => "the award terms of " + c.Title).SingleOrDefaultAsync(cancellationToken)
                    ?? throw new DomainException("No such call.");
            }
            else
            {
                subject = "the terms of use";
            }
            var last = await db.TermsDocuments.Where(d => d.Kind == kind && d.CallId == callId).MaxAsync(d => (int?)d.Version, cancellationToken) ?? 0;
            var document = TermsDocument.Publish(kind, callId, last + 1, text, summary, admin, clock.GetUtcNow());
            db.TermsDocuments.Add(document);
            audit.Record(admin, "terms.published", kind == TermsKind.TermsOfUse ? "terms" : "call", (callId ?? document.Id).ToString(),
                $"Published version {document.Version} of {subject}{(document.Summary.Length > 0 ? ": " + document.Summary : "")}");
            return document.Version;
        }, Conflict, cancellationToken);

    /// <summary>
    /// The user accepts the terms of use of version <paramref name="documentId"/>, which must still be the current one
    /// (a page shown before a newer version was published cannot accept it). Accepting twice changes nothing.
    /// </summary>
    public Task AcceptTermsOfUseAsync(Guid userId, Guid documentId, CancellationToken cancellationToken) =>
        db.SaveAsync(async () =>
        {
            var current = await CurrentAsync(TermsKind.TermsOfUse, null, cancellationToken) ?? throw new DomainException("There are no terms of use to accept.");
            if (current.Id != documentId)
            {
                throw new DomainException($"The terms of use changed while you read them: read version {current.Version} below and accept it.");
            }
            if (await db.TermsAcceptances.AnyAsync(a => a.UserId == userId && a.DocumentId == documentId, cancellationToken))
            {
                return;
            }
            db.TermsAcceptances.Add(TermsAcceptance.Of(userId, documentId, clock.GetUtcNow()));
            audit.Record(userId, "terms.accepted", "terms", documentId.ToString(), $"Accepted version {current.Version} of the terms of use");
        }, "You accepted these terms a moment ago already.", cancellationToken);

    /// <summary>Marks the current terms of use as accepted by each of <paramref name="userIds"/> (the demo's people); not saved here.</summary>
    internal async Task RecordAcceptedAsync(IEnumerable<Guid> userIds, CancellationToken cancellationToken)
    {
        var current = await CurrentAsync(TermsKind.TermsOfUse, null, cancellationToken) ?? throw new InvalidOperationException("No terms of use.");
        var now = clock.GetUtcNow();
        db.TermsAcceptances.AddRange(userIds.Select(u => TermsAcceptance.Of(u, current.Id, now)));
    }
}
