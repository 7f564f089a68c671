using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Proposals;

/// <summary>
/// The team's writes on a proposal: start a draft, save it, submit it, withdraw it. Each method loads the proposal
/// through the team's scope (a person who is not on the team gets null or false, which pages answer with 404), lets
/// <see cref="Proposal"/> check the rule, and saves once; a refusal is a <see cref="DomainException"/> and saves nothing.
/// </summary>
public sealed class ProposalEditing(PortalDbContext db, Notifier notifier, IEnumerable<ISubmissionScreening> screenings, TimeProvider clock)
{
    public const string ConcurrentSaveMessage =
        "Someone else on the team saved this proposal while you were editing. Copy your changes, reload the page and apply them again.";

    /// <summary>Starts a draft in the call <paramref name="callSlug"/> with <paramref name="pi"/> as its PI; null when there is no such call.</summary>
    public async Task<Guid?> StartDraftAsync(string callSlug, Guid pi, string title, CancellationToken cancellationToken = default)
    {
        var call = await db.Calls.AsNoTracking().SingleOrDefaultAsync(c => c.Slug == callSlug, cancellationToken);
        if (call is null)
        {
            return null;
        }
        var proposal = Proposal.StartDraft(call, pi, title, clock.GetUtcNow());
        db.Proposals.Add(proposal);
        await db.SaveChangesAsync(cancellationToken);
        return proposal.Id;
    }

    /// <summary>
    /// Saves the draft as it is (completeness is checked on submission), unless someone saved it since the form's
    /// <paramref name="version"/>. Returns the saved version, or null when <paramref name="actor"/> is not on the team.
    /// </summary>
    public async Task<uint?> SaveDraftAsync(Guid proposalId, Guid actor, uint version, ProposalContent content, CancellationToken cancellationToken = default)
    {
        if (await LoadAsync(proposalId, actor, version, cancellationToken) is not var (proposal, call))
        {
            return null;
        }
        proposal.UpdateDraft(content, call, clock.GetUtcNow());
        await db.SaveChangesOrRefuseAsync(ConcurrentSaveMessage, cancellationToken);
        return proposal.Version;
    }

    /// <summary>
    /// Submits the draft saved at <paramref name="version"/>; the whole team is notified in the same transaction.
    /// An incomplete draft is refused with a message per field (<see cref="DomainException.Fields"/>). The team is
    /// screened in the same transaction (<see cref="ISubmissionScreening"/>), which may refuse it. False when
    /// <paramref name="actor"/> is not on the team.
    /// </summary>
    public async Task<bool> SubmitAsync(Guid proposalId, Guid actor, uint version, CancellationToken cancellationToken = default)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await LoadAsync(proposalId, actor, version, cancellationToken) is not var (proposal, call))
        {
            return false;
        }
        proposal.Submit(call, actor, clock.GetUtcNow());
        foreach (var screening in screenings)
        {
            await screening.OnSubmittingAsync(proposal, call, cancellationToken);
        }
        await notifier.NotifyAsync(JoinedMembers(proposal), NotificationKinds.ProposalSubmitted, proposal.Title, $"/Proposals/Details/{proposal.Id}",
            new Dictionary<string, string> { ["call"] = call.Title }, cancellationToken);
        await db.SaveChangesOrRefuseAsync(ConcurrentSaveMessage, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The team withdraws the proposal (until a decision is released); false when <paramref name="actor"/> is not on the team.</summary>
    public async Task<bool> WithdrawAsync(Guid proposalId, Guid actor, string? reason, CancellationToken cancellationToken = default)
    {
        var proposal = await TeamProposals(actor).SingleOrDefaultAsync(p => p.Id == proposalId, cancellationToken);
        if (proposal is null)
        {
            return false;
        }
        proposal.Withdraw(actor, clock.GetUtcNow(), reason?.Trim());
        await db.SaveChangesOrRefuseAsync(ConcurrentSaveMessage, cancellationToken);
        return true;
    }

    private IQueryable<Proposal> TeamProposals(Guid actor) => db.Proposals.VisibleTo(Viewer.Applicant(actor));

    /// <summary>The proposal with what its rules read (requests, members) and its call; the save checks <paramref name="version"/>.</summary>
    private async Task<(Proposal Proposal, Call Call)?> LoadAsync(Guid proposalId, Guid actor, uint version, CancellationToken cancellationToken)
    {
        var proposal = await TeamProposals(actor).Include(p => p.Requests).Include(p => p.Members)
            // A draft has a few requests and a few members: one round trip.
            .AsSingleQuery()
            .SingleOrDefaultAsync(p => p.Id == proposalId, cancellationToken);
        if (proposal is null)
        {
            return null;
        }
        db.Entry(proposal).Property(p => p.Version).OriginalValue = version;
        var call = await db.Calls.AsNoTracking().SingleAsync(c => c.Id == proposal.CallId, cancellationToken);
        return (proposal, call);
    }

    private static IEnumerable<Guid> JoinedMembers(Proposal proposal) =>
        proposal.Members.Where(m => m.UserId is not null).Select(m => m.UserId!.Value);
}
