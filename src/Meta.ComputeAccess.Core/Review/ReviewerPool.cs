using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Review;

/// <summary>
/// A call's reviewer pool and conflicts of interest: admins add reviewers, reviewers keep their profile and declare
/// collaborators and conflicts, <see cref="ConflictDetector"/> finds the rest and stores them as data with reasons,
/// and admins confirm or clear detected ones (audited). Each public method saves its change in one transaction.
/// </summary>
public sealed class ReviewerPool(PortalDbContext db, AuditLog audit, ILookupNormalizer normalizer, TimeProvider clock)
{
    public const int DefaultMaxLoad = 6;

    /// <summary>Adds a user with the Reviewer role to the call's pool, and checks the call's conflicts again.</summary>
    public Task<ReviewerPoolMember> AddAsync(Guid callId, string email, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var normalized = (email ?? "").Trim().ToUpperInvariant();
        var user = await (from u in db.Users
                          where u.NormalizedEmail == normalized
                          select new { u.Id, u.FullName, IsReviewer = db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.Name == Roles.Reviewer)) })
            .SingleOrDefaultAsync(cancellationToken) ?? throw new DomainException("No user has that email address.");
        if (!user.IsReviewer)
        {
            throw new DomainException($"{user.FullName} does not have the Reviewer role; grant it under Users and roles first.");
        }
        if (await db.ReviewerPool.AnyAsync(m => m.CallId == callId && m.UserId == user.Id, cancellationToken))
        {
            throw new DomainException($"{user.FullName} is already in this call's pool.");
        }
        var member = ReviewerPoolMember.Create(callId, user.Id, DefaultMaxLoad, clock.GetUtcNow());
        db.ReviewerPool.Add(member);
        audit.Record(admin, "review.pool-added", "call", callId.ToString(), $"Added reviewer {user.FullName} to the pool");
        // Detection reads the pool from the database: the new member first, in the same transaction.
        await db.SaveChangesOrRefuseAsync(ReviewSaving.Conflict, cancellationToken);
        await FindConflictsAsync(callId, cancellationToken);
        return member;
    }, cancellationToken);

    public Task RemoveAsync(Guid callId, Guid reviewer, Guid admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var member = await db.ReviewerPool.SingleOrDefaultAsync(m => m.CallId == callId && m.UserId == reviewer, cancellationToken)
            ?? throw new DomainException("That reviewer is not in this call's pool.");
        if (await db.Reviews.AnyAsync(r => r.CallId == callId && r.ReviewerUserId == reviewer, cancellationToken))
        {
            throw new DomainException("The reviewer has assigned reviews in this call; unassign them first.");
        }
        db.ReviewerPool.Remove(member);
        audit.Record(admin, "review.pool-removed", "call", callId.ToString(), $"Removed reviewer {await db.Users.NameOfAsync(reviewer, cancellationToken)} from the pool");
    }, cancellationToken);

    /// <summary>
    /// The reviewer, or an admin (<paramref name="admin"/>, audited), sets the reviewer's expertise keywords and maximum
    /// load for one call.
    /// </summary>
    public Task UpdateProfileAsync(Guid callId, Guid reviewer, IEnumerable<string> keywords, int maxLoad, Guid? admin, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var member = await db.ReviewerPool.SingleOrDefaultAsync(m => m.CallId == callId && m.UserId == reviewer, cancellationToken)
            ?? throw new DomainException("You are not in this call's reviewer pool.");
        member.UpdateProfile(keywords, maxLoad);
        if (admin is { } by)
        {
            audit.Record(by, "review.pool-profile", "call", callId.ToString(), $"Changed reviewer {await db.Users.NameOfAsync(reviewer, cancellationToken)}'s profile (max load {maxLoad})");
        }
    }, cancellationToken);

    /// <summary>
    /// The reviewer declares a collaborator by email address. The answer is the same whatever the address (an account's
    /// or nobody's), and nothing the reviewer sees changes: the declaration is matched to accounts and turned into
    /// conflicts when reviewers are assigned (<see cref="FindConflictsAsync"/> runs before every assignment), so it can
    /// never tell a reviewer who is registered or who wrote which proposal.
    /// </summary>
    public Task DeclareCollaboratorAsync(Guid reviewer, string email, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        email = (email ?? "").Trim();
        var normalized = normalizer.NormalizeEmail(email);
        var own = await db.Users.Where(u => u.Id == reviewer).Select(u => u.NormalizedEmail).SingleAsync(cancellationToken);
        var collaborator = ReviewerCollaborator.Declare(reviewer, email, normalized, own, clock.GetUtcNow());
        var declared = await db.ReviewerCollaborators.Where(c => c.ReviewerUserId == reviewer).Select(c => c.NormalizedEmail).ToListAsync(cancellationToken);
        if (declared.Contains(normalized))
        {
            throw new DomainException("You already declared that collaborator.");
        }
        if (declared.Count >= ReviewerCollaborator.MaxPerReviewer)
        {
            throw new DomainException($"At most {ReviewerCollaborator.MaxPerReviewer} collaborators; remove one you no longer work with first.");
        }
        db.ReviewerCollaborators.Add(collaborator);
    }, cancellationToken);

    /// <summary>The reviewer takes a collaborator off their list; like a declaration, it counts from the next assignment.</summary>
    public Task RemoveCollaboratorAsync(Guid reviewer, string email, CancellationToken cancellationToken) => db.SaveAsync(async () =>
    {
        var normalized = normalizer.NormalizeEmail((email ?? "").Trim());
        var collaborator = await db.ReviewerCollaborators.SingleOrDefaultAsync(c => c.ReviewerUserId == reviewer && c.NormalizedEmail == normalized, cancellationToken)
            ?? throw new DomainException("That address is not on your list of collaborators.");
        db.ReviewerCollaborators.Remove(collaborator);
    }, cancellationToken);

    /// <summary>
    /// The reviewer declares a conflict with a proposal they can see (assigned, or in bidding: see <see cref="Bidding"/>);
    /// their unsubmitted review of it goes.
    /// </summary>
    public Task DeclareConflictAsync(Guid proposalId, Guid reviewer, string reason, CancellationToken cancellationToken) =>
        db.SaveAsync(() => AddDeclaredConflictAsync(proposalId, reviewer, reason, cancellationToken), cancellationToken);

    /// <summary><see cref="DeclareConflictAsync"/> in the caller's unit of work (not saved).</summary>
    internal async Task AddDeclaredConflictAsync(Guid proposalId, Guid reviewer, string reason, CancellationToken cancellationToken)
    {
        var proposal = await db.Proposals.Where(p => p.Id == proposalId).Select(p => new { p.Id, p.CallId }).SingleOrDefaultAsync(cancellationToken)
            ?? throw new DomainException("No such proposal.");
        var existing = await db.ReviewConflicts.SingleOrDefaultAsync(c => c.ProposalId == proposalId && c.ReviewerUserId == reviewer && c.Source == ConflictSource.SelfDeclared, cancellationToken);
        if (existing is null)
        {
            db.ReviewConflicts.Add(ReviewConflict.Create(proposal.CallId, proposalId, reviewer, ConflictSource.SelfDeclared,
                string.IsNullOrWhiteSpace(reason) ? "declared by the reviewer" : "declared by the reviewer: " + reason.Trim(), clock.GetUtcNow()));
        }
        await DropUnsubmittedAssignmentAsync(proposalId, reviewer, reviewer, cancellationToken);
    }

    /// <summary>A conflicted reviewer's unsubmitted assignment goes: they can no longer open it, and it must not hold up the proposal.</summary>
    private async Task DropUnsubmittedAssignmentAsync(Guid proposalId, Guid reviewer, Guid actor, CancellationToken cancellationToken)
    {
        var review = await db.Reviews.SingleOrDefaultAsync(r => r.ProposalId == proposalId && r.ReviewerUserId == reviewer && r.SubmittedAt == null, cancellationToken);
        if (review is null)
        {
            return;
        }
        await ReviewAssignments.RemoveUnsubmittedAsync(db, review, actor, clock.GetUtcNow(), cancellationToken);
    }

    /// <summary>
    /// Runs conflict detection for every pool member against every proposal under review in the call, and stores what
    /// it finds (one row per proposal, reviewer and type, reasons joined). Existing rows keep their admin status; an
    /// open detected conflict that is no longer found (a team or a profile changed) lapses, and comes back if it is
    /// found again. Returns how many new conflicts were found.
    /// </summary>
    public Task<int> DetectAsync(Guid callId, CancellationToken cancellationToken) =>
        db.SaveAsync(() => FindConflictsAsync(callId, cancellationToken), cancellationToken);

    /// <summary><see cref="DetectAsync"/> in the caller's unit of work (not saved): screening and assignment runs detect first.</summary>
    internal async Task<int> FindConflictsAsync(Guid callId, CancellationToken cancellationToken)
    {
        var pool = await db.ReviewerPool.AsNoTracking().Where(m => m.CallId == callId).Select(m => m.UserId).ToListAsync(cancellationToken);
        if (pool.Count == 0)
        {
            return 0;
        }
        var proposals = await db.Proposals.AsNoTracking()
            .Where(p => p.CallId == callId && ProposalStatusSets.Undecided.Contains(p.Status))
            .Select(p => new { p.Id, Team = p.Members.Where(m => m.UserId != null).Select(m => m.UserId!.Value).ToList() })
            .ToListAsync(cancellationToken);
        var people = pool.Concat(proposals.SelectMany(p => p.Team)).Distinct().ToList();
        var users = await db.Users.AsNoTracking().Where(u => people.Contains(u.Id))
            .ToDictionaryAsync(u => u.Id, u => new { u.Institution, u.Email, u.InstitutionVerified, VerifiedOrcidId = u.OrcidIdVerified ? u.OrcidId : null }, cancellationToken);
        // Declared addresses count once a confirmed account owns them (confirmation proves the address is theirs).
        var declared = await (from c in db.ReviewerCollaborators.AsNoTracking()
                              where people.Contains(c.ReviewerUserId)
                              join u in db.Users on c.NormalizedEmail equals u.NormalizedEmail
                              where u.EmailConfirmed
                              select new { c.ReviewerUserId, CollaboratorUserId = u.Id })
            .ToListAsync(cancellationToken);
        var collaboratorsOf = declared.GroupBy(c => c.ReviewerUserId).ToDictionary(g => g.Key, g => (IReadOnlyCollection<Guid>)g.Select(c => c.CollaboratorUserId).ToHashSet());
        IReadOnlyCollection<Guid> Collaborators(Guid id) => collaboratorsOf.GetValueOrDefault(id) ?? [];

        var existing = await db.ReviewConflicts.Where(c => c.CallId == callId).ToListAsync(cancellationToken);
        var detector = new ConflictDetector();
        var now = clock.GetUtcNow();
        var added = 0;
        var found = new HashSet<(Guid Proposal, Guid Reviewer, ConflictSource Source)>();
        foreach (var reviewerId in pool)
        {
            var who = users.GetValueOrDefault(reviewerId);
            var reviewer = new ReviewerIdentity(reviewerId, who?.Institution, who?.Email, Collaborators(reviewerId), who?.InstitutionVerified ?? false, who?.VerifiedOrcidId);
            foreach (var proposal in proposals)
            {
                var team = proposal.Team.Select(id => users.GetValueOrDefault(id) is { } m
                    ? new TeamMemberIdentity(id, m.Institution, m.Email, Collaborators(id), m.InstitutionVerified, m.VerifiedOrcidId)
                    : new TeamMemberIdentity(id, null, null, Collaborators(id))).ToList();
                foreach (var group in detector.Detect(reviewer, team).GroupBy(c => ReviewConflict.SourceOf(c.Type)))
                {
                    var reason = string.Join("; ", group.Select(c => c.Reason));
                    found.Add((proposal.Id, reviewerId, group.Key));
                    var row = existing.FirstOrDefault(c => c.ProposalId == proposal.Id && c.ReviewerUserId == reviewerId && c.Source == group.Key);
                    if (row is null)
                    {
                        db.ReviewConflicts.Add(ReviewConflict.Create(callId, proposal.Id, reviewerId, group.Key, reason, now));
                        added++;
                    }
                    else
                    {
                        row.Redetected(reason);
                    }
                }
            }
        }
        var inPool = pool.ToHashSet();
        var underReview = proposals.Select(p => p.Id).ToHashSet();
        foreach (var row in existing.Where(c => c.Status == ConflictStatus.Open && c.Source != ConflictSource.SelfDeclared
                     && inPool.Contains(c.ReviewerUserId) && underReview.Contains(c.ProposalId) && !found.Contains((c.ProposalId, c.ReviewerUserId, c.Source))))
        {
            row.Lapse(now);
        }
        return added;
    }

    public Task ConfirmAsync(Guid conflictId, Guid admin, CancellationToken cancellationToken) =>
        db.SaveAsync(() => ResolveAsync(conflictId, admin, confirm: true, cancellationToken), cancellationToken);

    public Task ClearAsync(Guid conflictId, Guid admin, CancellationToken cancellationToken) =>
        db.SaveAsync(() => ResolveAsync(conflictId, admin, confirm: false, cancellationToken), cancellationToken);

    private async Task ResolveAsync(Guid conflictId, Guid admin, bool confirm, CancellationToken cancellationToken)
    {
        var conflict = await db.ReviewConflicts.SingleOrDefaultAsync(c => c.Id == conflictId, cancellationToken)
            ?? throw new DomainException("No such conflict.");
        var now = clock.GetUtcNow();
        if (confirm)
        {
            conflict.Confirm(admin, now);
            await DropUnsubmittedAssignmentAsync(conflict.ProposalId, conflict.ReviewerUserId, admin, cancellationToken);
        }
        else
        {
            conflict.Clear(admin, now);
        }
        audit.Record(admin, confirm ? "review.conflict-confirmed" : "review.conflict-cleared", "proposal", conflict.ProposalId.ToString(),
            $"{(confirm ? "Confirmed" : "Cleared")} conflict ({conflict.Source.AsLowerWords()}) of reviewer {await db.Users.NameOfAsync(conflict.ReviewerUserId, cancellationToken)}: {conflict.Reason}");
    }
}
