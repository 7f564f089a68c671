using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Review;

namespace Meta.ComputeAccess.Safety;

/// <summary>On submission, in its transaction: a proposal in the safety track is audited and announced to the safety reviewers.</summary>
public sealed class SafetySubmissions(SafetyTrack track, AuditLog audit, Notifier notifier) : ISubmissionScreening
{
    public async Task OnSubmittingAsync(Proposal proposal, Call call, CancellationToken cancellationToken)
    {
        var reasons = track.ReasonsOf(proposal);
        if (reasons == SafetyReasons.None)
        {
            return;
        }
        audit.Record(null, "safety.flagged", "proposal", proposal.Id.ToString(), $"{proposal.Title} entered the safety track: {track.Describe(reasons)}");
        await notifier.NotifyRoleAsync(Roles.Safety, NotificationKinds.SafetyFlagged, proposal.Title, $"/Safety/Review/{proposal.Id}",
            new Dictionary<string, string> { ["reasons"] = track.Describe(reasons) }, cancellationToken);
    }
}

/// <summary>A safety reviewer's conditions come with the award; the PI accepts them, as written, to accept it.</summary>
public sealed class SafetyAwardConditions(SafetyTrack track) : IAwardConditions
{
    public async Task<IReadOnlyList<AwardCondition>> ForAwardAsync(Guid proposalId, CancellationToken cancellationToken) =>
        (await track.StatesAsync([proposalId], cancellationToken)).TryGetValue(proposalId, out var state)
            && state is { Outcome: SafetyOutcome.ApprovedWithConditions, DecisionId: { } id }
            ? [new AwardCondition($"safety:{id}", "the safety reviewer's conditions", state.Text)]
            : [];
}
