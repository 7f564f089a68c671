using Meta.ComputeAccess.Calls;

namespace Meta.ComputeAccess.Proposals;

/// <summary>
/// Compliance's look at a team when its proposal is submitted, in the submission's transaction before it is saved:
/// it refuses (<see cref="DomainException"/>) a team the country rules do not allow and records what a compliance
/// officer must review. The compliance module implements it (<c>PartyScreening</c>), so Proposals never names it; so
/// does the safety module (<c>SafetySubmissions</c>: a proposal in the safety track is announced to the safety reviewers).
/// </summary>
public interface ISubmissionScreening
{
    Task OnSubmittingAsync(Proposal proposal, Call call, CancellationToken cancellationToken);
}
