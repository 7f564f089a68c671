using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Notifications;

/// <summary>A choice on the preferences page: how one kind of notice is mailed.</summary>
public sealed record EmailChoice(string Kind, NotificationMode Mode);

/// <summary>Whose mail of which kind an unsubscribe link turns off (read from its token).</summary>
public sealed record UnsubscribeTarget(Guid UserId, string Kind)
{
    /// <summary>The digest's own link: every kind the user receives as a digest.</summary>
    public bool IsDigest => Kind == UnsubscribeTokens.DigestKind;
}

/// <summary>How each user wants each kind of notice mailed: the preferences page and the unsubscribe links.</summary>
public sealed class EmailPreferences(PortalDbContext db, UnsubscribeTokens tokens, AuditLog audit, TimeProvider clock)
{
    /// <summary>
    /// Saves the user's choices (the first for a kind counts). Refuses the whole set, with a message per choice
    /// (<c>[i].Mode</c>), when one names an unknown kind, a kind for an audience the caller may not act as (a staff
    /// kind from a session without staff rights), a security kind or an unknown mode; nothing is saved then.
    /// </summary>
    public async Task SaveAsync(Guid userId, IReadOnlyList<EmailChoice> choices, IReadOnlySet<NotificationAudience> audiences, CancellationToken cancellationToken = default)
    {
        var problems = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < choices.Count; i++)
        {
            var problem = !NotificationKinds.IsKnown(choices[i].Kind) ? "This kind of notice does not exist."
                : !audiences.Contains(NotificationKinds.Get(choices[i].Kind).Audience) ? "This kind of notice is not offered to you."
                : NotificationKinds.IsSecurity(choices[i].Kind) ? "Security mail is always sent immediately."
                : !Enum.IsDefined(choices[i].Mode) ? "Choose immediately, daily digest or no email."
                : null;
            if (problem is not null)
            {
                problems[$"[{i}].Mode"] = problem;
            }
        }
        if (problems.Count > 0)
        {
            throw new DomainException("Your email preferences were not saved: see the marked choices.", problems);
        }
        var now = clock.GetUtcNow();
        var saved = await SavedAsync(userId, cancellationToken);
        foreach (var choice in choices.DistinctBy(c => c.Kind))
        {
            Set(saved, userId, choice.Kind, choice.Mode, now);
        }
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The user and kind an unsubscribe token names; null when it is not valid or the user is gone.</summary>
    public async Task<UnsubscribeTarget?> ReadTokenAsync(string? token, CancellationToken cancellationToken = default) =>
        tokens.TryRead(token, out var userId, out var kind) && await db.Users.AnyAsync(u => u.Id == userId, cancellationToken)
            ? new UnsubscribeTarget(userId, kind)
            : null;

    /// <summary>Turns the target's mail off (audited as the user's own act): one kind, or every kind they get as a digest.</summary>
    public async Task UnsubscribeAsync(UnsubscribeTarget target, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var saved = await SavedAsync(target.UserId, cancellationToken);
        var kinds = target.IsDigest
            ? saved.Values.Where(p => p.Mode == NotificationMode.DailyDigest).Select(p => p.Kind).ToList()
            : [target.Kind];
        foreach (var kind in kinds)
        {
            Set(saved, target.UserId, kind, NotificationMode.Off, now);
        }
        audit.Record(target.UserId, "notifications.unsubscribed", "user", target.UserId.ToString(), $"Turned off email for {target.Kind} from an unsubscribe link");
        await db.SaveChangesAsync(cancellationToken);
    }

    private Task<Dictionary<string, NotificationPreference>> SavedAsync(Guid userId, CancellationToken cancellationToken) =>
        db.NotificationPreferences.Where(p => p.UserId == userId).ToDictionaryAsync(p => p.Kind, StringComparer.Ordinal, cancellationToken);

    private void Set(Dictionary<string, NotificationPreference> saved, Guid userId, string kind, NotificationMode mode, DateTimeOffset now)
    {
        if (saved.TryGetValue(kind, out var preference))
        {
            preference.Change(mode, now);
        }
        else
        {
            db.NotificationPreferences.Add(NotificationPreference.Create(userId, kind, mode, now));
        }
    }
}
