using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Compliance;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;

namespace Meta.ComputeAccess.Privacy;

/// <summary>
/// A person closes their own account (docs/compliance.md, "Your data"; docs/decisions/erasure-pseudonymises-history-in-place.md).
/// Their personal data is erased or pseudonymised in place ("Former user 12"), their address freed, their ways in
/// removed, drafts they lead and invitations to them removed, their place on allocations ended; reviews, decisions,
/// the ledger and the audit log stay, pointing at the pseudonym. Refused, naming what to hand over, while they lead a
/// proposal on its way to a decision, lead an open allocation, or owe a review.
/// </summary>
public sealed partial class AccountClosure(
    PortalDbContext db, UserManager<PortalUser> users, DraftRemoval drafts, TextPseudonymisation text, AuditLog audit, TimeProvider clock,
    ILogger<AccountClosure> logger)
{
    /// <summary>What the person must hand over before the account can close; empty when nothing holds it.</summary>
    public async Task<IReadOnlyList<string>> BlockersAsync(Guid userId, CancellationToken cancellationToken = default)
    {
        var blockers = new List<string>();
        var awaitingAnswer = ProposalDecision.Awarded;
        var leading = await db.Proposals.AsNoTracking()
            .Where(p => p.PiUserId == userId
                && (ProposalStatusSets.Undecided.Contains(p.Status)
                    || p.Status == ProposalStatus.Decided && (p.DecisionReleasedAt == null || p.Decision == awaitingAnswer && p.AwardResponse == null)))
            .OrderBy(p => p.Title).Select(p => p.Title).ToListAsync(cancellationToken);
        blockers.AddRange(leading.Select(t => $"You lead the proposal \u201c{t}\u201d, which is on its way to a decision: withdraw it, or ask the program to make a co-investigator its PI."));
        var open = Allocation.OpenStates;
        var allocations = await db.Allocations.AsNoTracking()
            .Where(a => a.PiUserId == userId && open.Contains(a.State))
            .OrderBy(a => a.ProjectTitle).Select(a => new { a.ProjectTitle, a.SlurmAccount }).ToListAsync(cancellationToken);
        blockers.AddRange(allocations.Select(a => $"You are the PI of the allocation \u201c{a.ProjectTitle}\u201d ({a.SlurmAccount}), which is still open: ask the program to close it or to hand it to another PI."));
        var owed = await db.Reviews.AsNoTracking()
            .Where(r => r.ReviewerUserId == userId && r.SubmittedAt == null)
            .Join(db.Proposals.Where(p => p.Status == ProposalStatus.InReview), r => r.ProposalId, p => p.Id, (r, p) => p.Title)
            .OrderBy(t => t).ToListAsync(cancellationToken);
        blockers.AddRange(owed.Select(t => $"You owe a review of \u201c{t}\u201d: submit it, or ask the program to assign it to someone else."));
        return blockers;
    }

    /// <summary>
    /// Closes the account after checking the person's proof: their password, or (an account without one, signed in
    /// through a provider) their email address typed again. Returns the pseudonym. One transaction: on any refusal
    /// nothing is changed.
    /// </summary>
    public async Task<string> CloseAsync(Guid userId, string? proof, CancellationToken cancellationToken = default)
    {
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        // Locked before anything is checked: a second closure (a double click), or a change of the profile, waits for
        // this one and then finds the account closed.
        await db.LockAsync<PortalUser>($"SELECT * FROM users WHERE id = {userId} FOR UPDATE", cancellationToken);
        var user = await users.FindByIdAsync(userId.ToString()) ?? throw new DomainException("No such account.");
        if (user.ClosedAt is not null)
        {
            throw new DomainException("This account is already closed.");
        }
        await CheckProofAsync(user, proof ?? "");
        var blockers = await BlockersAsync(userId, cancellationToken);
        if (blockers.Count > 0)
        {
            throw new DomainException("Your account cannot be closed yet. " + string.Join(" ", blockers));
        }
        var email = user.Email;
        var names = new[] { user.FullName, NameNormalizer.Normalize(user.FullName) };
        var now = clock.GetUtcNow();
        var number = await db.Database.SqlQuery<long>($"SELECT nextval('former_user_numbers') AS \"Value\"").SingleAsync(cancellationToken);
        var pseudonym = PortalUser.FormerUserName(number);

        await LeaveTeamsAndAllocationsAsync(user, now, cancellationToken);
        var draftIds = await db.Proposals.Where(p => p.PiUserId == userId && p.Status == ProposalStatus.Draft).Select(p => p.Id).ToListAsync(cancellationToken);
        // Leaving a team changes proposals and allocations a teammate may be saving at this moment: a refusal to try again, not an error page.
        await db.SaveChangesOrRefuseAsync("A proposal or allocation you are on changed at this moment; nothing was closed. Try again.", cancellationToken);
        var removedDrafts = await drafts.RemoveAsync(draftIds, cancellationToken);
        var attachments = await RemoveUnneededAttachmentsAsync(userId, cancellationToken);
        await RemoveAccountDataAsync(userId, email, cancellationToken);

        user.Close(number, now);
        await db.SaveChangesAsync(cancellationToken);
        var rewritten = await text.ReplaceAsync(TextPseudonymisation.Patterns(email, names), pseudonym, cancellationToken);

        audit.Record(userId, "account.closed", "user", userId.ToString(),
            $"{pseudonym} closed their account: personal data erased, {removedDrafts.Count} draft(s) and {attachments + removedDrafts.Sum(d => d.Attachments)} attachment(s) removed, " +
            $"text pseudonymised in {rewritten.Values.Sum()} row(s) of {rewritten.Count} table(s)");
        await db.SaveChangesAsync(cancellationToken);
        await tx.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        LogClosed(logger, userId, number, rewritten.Values.Sum());
        return pseudonym;
    }

    private async Task CheckProofAsync(PortalUser user, string proof)
    {
        if (await users.HasPasswordAsync(user))
        {
            if (!await users.CheckPasswordAsync(user, proof))
            {
                throw new DomainException("That is not your password: the account stays open.", new Dictionary<string, string> { ["Proof"] = "Type your current password." });
            }
        }
        else if (!string.Equals(proof.Trim(), user.Email, StringComparison.OrdinalIgnoreCase))
        {
            throw new DomainException("Type your email address exactly as your account has it: the account stays open.", new Dictionary<string, string> { ["Proof"] = "Type your email address." });
        }
    }

    /// <summary>Open invitations to the person are declined; their place on allocations (other than as PI) ends, so clusters drop them.</summary>
    private async Task LeaveTeamsAndAllocationsAsync(PortalUser user, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var normalized = user.NormalizedEmail ?? "";
        var invited = await db.Proposals.Include(p => p.Members)
            .Where(p => p.Members.Any(m => m.UserId == null && m.InvitedEmailNormalized == normalized))
            .ToListAsync(cancellationToken);
        foreach (var proposal in invited)
        {
            foreach (var member in proposal.Members.Where(m => m.UserId == null && m.InvitedEmailNormalized == normalized).ToList())
            {
                proposal.DeclineInvitation(member.Id, user.Id, normalized, now);
            }
        }
        var open = new[] { AllocationMemberStatus.Active, AllocationMemberStatus.Invited };
        var allocations = await db.Allocations.Include(a => a.Members)
            .Where(a => a.Members.Any(m => m.UserId == user.Id && open.Contains(m.Status) && m.Role != AllocationMemberRole.PrincipalInvestigator))
            .ToListAsync(cancellationToken);
        foreach (var allocation in allocations)
        {
            allocation.RemoveMember(user.Id, user.Id, now);
        }
        // Pools of calls still to be reviewed: nobody should assign a review to a closed account.
        var reviewing = new[] { CallStatus.Draft, CallStatus.Open, CallStatus.Closed };
        db.ReviewerPool.RemoveRange(await db.ReviewerPool.Where(m => m.UserId == user.Id && db.Calls.Any(c => c.Id == m.CallId && reviewing.Contains(c.Status))).ToListAsync(cancellationToken));
    }

    /// <summary>
    /// Attachments the person uploaded to proposals no decision rests on any more (withdrawn) and on which nobody else is
    /// on the team. Attachments of submitted proposals stay: they are part of what was reviewed and decided.
    /// </summary>
    private async Task<int> RemoveUnneededAttachmentsAsync(Guid userId, CancellationToken cancellationToken) =>
        await db.ProposalAttachments
            .Where(a => a.UploadedBy == userId
                && db.Proposals.Any(p => p.Id == a.ProposalId && p.Status == ProposalStatus.Withdrawn && p.Members.All(m => m.UserId == userId)))
            .ExecuteDeleteAsync(cancellationToken);

    /// <summary>What only the account had: ways in, sessions, sign-in history, notifications and mail, cluster logins, declared collaborators.</summary>
    private async Task RemoveAccountDataAsync(Guid userId, string? email, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync($"DELETE FROM user_logins WHERE user_id = {userId}", cancellationToken);
        await db.Database.ExecuteSqlAsync($"DELETE FROM user_tokens WHERE user_id = {userId}", cancellationToken);
        await db.Database.ExecuteSqlAsync($"DELETE FROM user_claims WHERE user_id = {userId}", cancellationToken);
        await db.Database.ExecuteSqlAsync($"DELETE FROM user_roles WHERE user_id = {userId}", cancellationToken);
        await db.UserSessions.Where(s => s.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.SignInEvents.Where(e => e.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.NotificationDigests.Where(d => d.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.Notifications.Where(n => n.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.NotificationPreferences.Where(p => p.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        var address = (email ?? "").ToUpperInvariant();
        var mail = db.OutboxMessages.Where(m => m.RecipientUserId == userId || m.ToAddress.ToUpper() == address).Select(m => m.Id);
        await db.NotificationDigests.Where(d => d.OutboxMessageId != null && mail.Contains(d.OutboxMessageId.Value)).ExecuteDeleteAsync(cancellationToken);
        await db.OutboxAttempts.Where(a => mail.Contains(a.MessageId)).ExecuteDeleteAsync(cancellationToken);
        await db.OutboxMessages.Where(m => m.RecipientUserId == userId || m.ToAddress.ToUpper() == address).ExecuteDeleteAsync(cancellationToken);
        await db.ClusterLogins.Where(l => l.UserId == userId).ExecuteDeleteAsync(cancellationToken);
        await db.ReviewerCollaborators.Where(c => c.ReviewerUserId == userId).ExecuteDeleteAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Account {UserId} closed as former user {Number}; {Rows} rows of text pseudonymised")]
    private static partial void LogClosed(ILogger logger, Guid userId, long number, int rows);
}
