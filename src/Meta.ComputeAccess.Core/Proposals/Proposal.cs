using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Calls;

namespace Meta.ComputeAccess.Proposals;

/// <summary>The lifecycle from the architecture brief; Withdrawn is reachable from any state before a decision is released.</summary>
public enum ProposalStatus
{
    Draft,
    Submitted,
    Screening,
    InReview,
    [Display(Name = "Reviewed")]
    ReviewsComplete,
    Decided,
    Withdrawn,
}

public enum ProposalDecision
{
    Awarded,
    Waitlisted,
    Declined,
}

/// <summary>
/// A research proposal for a call. Every status change goes through a method here that checks it is allowed
/// and appends a history row (who, when, from, to, reason); nothing else sets <see cref="Status"/>.
/// </summary>
public sealed partial class Proposal
{
    public const int MaxAttachments = 3;
    public const int MaxKeywords = 12;

    private readonly List<ProposalClusterRequest> requests = [];
    private readonly List<ProposalMember> members = [];
    private readonly List<ProposalHistoryEntry> history = [];
    private readonly List<ProposalAward> awards = [];

    public Guid Id { get; private set; }

    public Guid CallId { get; private set; }

    public Guid PiUserId { get; private set; }

    public ProposalStatus Status { get; private set; }

    public string Title { get; private set; } = "";

    public string AbstractMarkdown { get; private set; } = "";

    public List<string> Keywords { get; private set; } = [];

    /// <summary>The keywords joined by commas: fed to the full-text index (a generated column cannot read arrays).</summary>
    public string KeywordsText { get; private set; } = "";

    public string ResearchField { get; private set; } = "";

    public string ComputeJustification { get; private set; } = "";

    public bool? UsesPersonalData { get; private set; }

    public string PersonalDataDetails { get; private set; } = "";

    public bool? InvolvesHumanSubjects { get; private set; }

    public string HumanSubjectsDetails { get; private set; } = "";

    public bool? HasDualUseRisk { get; private set; }

    public string DualUseDetails { get; private set; } = "";

    public string Licences { get; private set; } = "";

    public PlannedOutputs PlannedOutputs { get; private set; }

    public string OutputsDetails { get; private set; } = "";

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset UpdatedAt { get; private set; }

    public DateTimeOffset? SubmittedAt { get; private set; }

    public ProposalDecision? Decision { get; private set; }

    public DateTimeOffset? DecisionReleasedAt { get; private set; }

    /// <summary>The message to the applicants that comes with the decision (shown once released).</summary>
    public string DecisionMessage { get; private set; } = "";

    /// <summary>The PI's answer to an award; null while it waits.</summary>
    public AwardResponse? AwardResponse { get; private set; }

    public DateTimeOffset? AwardRespondedAt { get; private set; }

    /// <summary>The PI agreed, when accepting the award, that it is listed on the public page of awards (<c>/Awards</c>).</summary>
    public bool ListedPublicly { get; private set; }

    /// <summary>The PI also agreed that the hours used are shown there.</summary>
    public bool PublicUsageShown { get; private set; }

    /// <summary>The summary for the public page, in plain text, written by the PI when agreeing to the listing.</summary>
    public string PublicSummary { get; private set; } = "";

    /// <summary>Hours awarded per cluster (only for <see cref="ProposalDecision.Awarded"/>).</summary>
    public IReadOnlyList<ProposalAward> Awards => awards;

    /// <summary>Bumped on every save; a stale form (another team member saved meanwhile) is refused, not silently overwritten.</summary>
    public uint Version { get; private set; }

    public IReadOnlyList<ProposalClusterRequest> Requests => requests;

    /// <summary>The sum of <see cref="Requests"/>, kept on the proposal so the admin list can sort by it from an index.</summary>
    public decimal TotalRequestedHours { get; private set; }

    public IReadOnlyList<ProposalMember> Members => members;

    public IReadOnlyList<ProposalHistoryEntry> History => history;

    private Proposal()
    {
    }

    public static Proposal StartDraft(Call call, Guid piUserId, string title, DateTimeOffset now)
    {
        if (!call.IsAcceptingDrafts(now))
        {
            throw new DomainException("This call is not taking proposals.");
        }
        var proposal = new Proposal
        {
            Id = Guid.CreateVersion7(now),
            CallId = call.Id,
            PiUserId = piUserId,
            Status = ProposalStatus.Draft,
            CreatedAt = now,
            UpdatedAt = now,
        };
        proposal.Title = Limit(title, 200, "The title").Trim();
        if (proposal.Title.Length == 0)
        {
            throw new DomainException("Give the proposal a title.");
        }
        proposal.members.Add(ProposalMember.Pi(proposal.Id, piUserId, now));
        proposal.history.Add(new ProposalHistoryEntry(proposal.Id, now, piUserId, null, ProposalStatus.Draft, "Draft started"));
        return proposal;
    }

    public bool IsEditable => IsEditableIn(Status);

    /// <summary>Only a draft is edited: its content, team and files (read models ask this too).</summary>
    public static bool IsEditableIn(ProposalStatus status) => status == ProposalStatus.Draft;

    /// <summary>Saves the draft as it is: incomplete is fine here, <see cref="Submit"/> checks completeness.</summary>
    public void UpdateDraft(ProposalContent content, Call call, DateTimeOffset now)
    {
        EnsureEditable();
        if (!call.IsAcceptingDrafts(now))
        {
            throw new DomainException("The call's deadline has passed; this draft can no longer change.");
        }
        Title = Limit(content.Title, 200, "The title").Trim();
        AbstractMarkdown = Limit(content.AbstractMarkdown, 20_000, "The abstract").Trim();
        Keywords = NormalizeKeywords(content.Keywords);
        KeywordsText = string.Join(", ", Keywords);
        ResearchField = Limit(content.ResearchField, 100, "The research field").Trim();
        if (ResearchField.Length > 0 && !ResearchFields.IsKnown(ResearchField))
        {
            throw new DomainException("Choose a research field from the list.");
        }
        ComputeJustification = Limit(content.ComputeJustification, 20_000, "The compute justification").Trim();
        UsesPersonalData = content.UsesPersonalData;
        PersonalDataDetails = Limit(content.PersonalDataDetails, 5_000, "The personal data details").Trim();
        InvolvesHumanSubjects = content.InvolvesHumanSubjects;
        HumanSubjectsDetails = Limit(content.HumanSubjectsDetails, 5_000, "The human subjects details").Trim();
        HasDualUseRisk = content.HasDualUseRisk;
        DualUseDetails = Limit(content.DualUseDetails, 5_000, "The dual-use details").Trim();
        Licences = Limit(content.Licences, 5_000, "The licences").Trim();
        PlannedOutputs = content.PlannedOutputs;
        OutputsDetails = Limit(content.OutputsDetails, 5_000, "The outputs details").Trim();
        SetRequests(content.Requests, call);
        UpdatedAt = now;
    }

    private void SetRequests(IReadOnlyList<RequestedHours> wanted, Call call)
    {
        foreach (var r in wanted)
        {
            var terms = call.ClusterTerms(r.ClusterId) ?? throw new DomainException("A requested cluster is not offered in this call.");
            if (r.Requested < 0 || r.MinimumViable < 0)
            {
                throw new DomainException("Hours cannot be negative.");
            }
            if (decimal.Round(r.Requested, 2) != r.Requested || decimal.Round(r.MinimumViable, 2) != r.MinimumViable)
            {
                throw new DomainException("Hours are given with at most two decimals.");
            }
            if (r.Requested > terms.MaxRequestHours)
            {
                throw new DomainException($"At most {terms.MaxRequestHours.AsHours()} hours can be requested on a cluster in this call.");
            }
            if (r.MinimumViable > r.Requested)
            {
                throw new DomainException("The minimum viable hours cannot exceed the hours requested.");
            }
        }
        requests.RemoveAll(existing => !wanted.Any(w => w.ClusterId == existing.ClusterId && w.Requested > 0));
        foreach (var r in wanted.Where(w => w.Requested > 0))
        {
            var existing = requests.FirstOrDefault(x => x.ClusterId == r.ClusterId);
            if (existing is null)
            {
                requests.Add(new ProposalClusterRequest(Id, r.ClusterId, r.Requested, r.MinimumViable));
            }
            else
            {
                existing.Update(r.Requested, r.MinimumViable);
            }
        }
        TotalRequestedHours = requests.Sum(r => r.RequestedHours);
    }

    /// <summary>What is missing before the proposal can be submitted, keyed by field name; empty when complete.</summary>
    public IReadOnlyDictionary<string, string> CompletenessProblems(Call call)
    {
        var problems = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Title.Length < 5)
        {
            problems[nameof(Title)] = "Give the proposal a descriptive title (at least 5 characters).";
        }
        if (AbstractMarkdown.Length < 100)
        {
            problems[nameof(AbstractMarkdown)] = "Write an abstract of at least 100 characters: reviewers bid on it.";
        }
        if (Keywords.Count == 0)
        {
            problems[nameof(Keywords)] = "Add at least one keyword: they match the proposal to reviewers.";
        }
        if (ResearchField.Length == 0)
        {
            problems[nameof(ResearchField)] = "Choose a research field.";
        }
        if (requests.Count == 0)
        {
            problems[nameof(Requests)] = "Request hours on at least one cluster.";
        }
        foreach (var r in requests)
        {
            var terms = call.ClusterTerms(r.ClusterId);
            if (terms is not null && r.RequestedHours < terms.MinRequestHours)
            {
                problems[nameof(Requests)] = $"Requests in this call are at least {terms.MinRequestHours.AsHours()} hours per cluster.";
            }
        }
        if (ComputeJustification.Length < 100)
        {
            problems[nameof(ComputeJustification)] = "Explain what runs, at what scale and why this many hours (at least 100 characters).";
        }
        if (UsesPersonalData is null)
        {
            problems[nameof(UsesPersonalData)] = "Say whether the work uses personal data.";
        }
        else if (UsesPersonalData == true && PersonalDataDetails.Length < 20)
        {
            problems[nameof(PersonalDataDetails)] = "Describe the personal data and how it is protected.";
        }
        if (InvolvesHumanSubjects is null)
        {
            problems[nameof(InvolvesHumanSubjects)] = "Say whether the work involves human subjects.";
        }
        else if (InvolvesHumanSubjects == true && HumanSubjectsDetails.Length < 20)
        {
            problems[nameof(HumanSubjectsDetails)] = "Describe who takes part, how they consent and who approved the study.";
        }
        if (HasDualUseRisk is null)
        {
            problems[nameof(HasDualUseRisk)] = "Say whether the work carries a dual-use risk.";
        }
        else if (HasDualUseRisk == true && DualUseDetails.Length < 20)
        {
            problems[nameof(DualUseDetails)] = "Describe the dual-use risk and how it is mitigated.";
        }
        if (Licences.Length < 5)
        {
            problems[nameof(Licences)] = "List the licences of the models and data you use.";
        }
        if (PlannedOutputs == PlannedOutputs.None)
        {
            problems[nameof(PlannedOutputs)] = "Choose at least one planned output.";
        }
        return problems;
    }

    /// <summary>
    /// Submits a complete draft before the call's deadline (server clock, to the second). An incomplete one is refused
    /// with the <see cref="CompletenessProblems"/> in <see cref="DomainException.Fields"/>.
    /// </summary>
    public void Submit(Call call, Guid actor, DateTimeOffset now)
    {
        if (Status != ProposalStatus.Draft)
        {
            throw new DomainException($"Only a draft can be submitted; this proposal is {Describe(Status)}.");
        }
        if (!call.IsAcceptingSubmissions(now))
        {
            throw new DomainException(call.ClosesAt is { } closes && now >= closes
                ? "The deadline has passed: the call closed and takes no more submissions."
                : "This call is not taking submissions.");
        }
        var problems = CompletenessProblems(call);
        if (problems.Count > 0)
        {
            throw new DomainException("The proposal is not complete yet: see the messages beside the fields.", problems);
        }
        SubmittedAt = now;
        Transition(ProposalStatus.Submitted, actor, now, "Submitted");
    }

    /// <summary>The team withdraws the proposal; allowed in any state until a decision is released.</summary>
    public void Withdraw(Guid actor, DateTimeOffset now, string? reason)
    {
        if (Status is ProposalStatus.Withdrawn)
        {
            throw new DomainException("The proposal is already withdrawn.");
        }
        if (DecisionReleasedAt is not null)
        {
            throw new DomainException("A decision has been released: the proposal can no longer be withdrawn.");
        }
        Transition(ProposalStatus.Withdrawn, actor, now, string.IsNullOrWhiteSpace(reason) ? "Withdrawn by the team" : Limit(reason, 1000, "The reason").Trim());
    }

    /// <summary>Admins start screening a submitted proposal.</summary>
    public void StartScreening(Guid actor, DateTimeOffset now) => Require(ProposalStatus.Submitted, ProposalStatus.Screening, actor, now, "Screening started");

    /// <summary>Screening passed: the proposal goes to review.</summary>
    public void SendToReview(Guid actor, DateTimeOffset now, string reason) => Require(ProposalStatus.Screening, ProposalStatus.InReview, actor, now, reason);

    /// <summary>Screening failed: the proposal is declined with the reason (released at once: nothing to rank).</summary>
    public void DeclineAtScreening(Guid actor, DateTimeOffset now, string reason)
    {
        Require(ProposalStatus.Screening, ProposalStatus.Decided, actor, now, "Declined at screening: " + reason);
        Decision = ProposalDecision.Declined;
        DecisionMessage = Limit(reason, 4000, "The reason").Trim();
        DecisionReleasedAt = now;
    }

    /// <summary>A reviewer was assigned or unassigned: a timeline row without the reviewer's name (applicants read the timeline).</summary>
    public void RecordReviewerChange(bool assigned, Guid actor, DateTimeOffset now)
    {
        if (Status is not (ProposalStatus.InReview or ProposalStatus.ReviewsComplete))
        {
            throw new DomainException($"Reviewers are assigned while a proposal is in review; this proposal is {Describe(Status)}.");
        }
        if (assigned && Status == ProposalStatus.ReviewsComplete)
        {
            // A new reviewer means a review is outstanding again.
            Transition(ProposalStatus.InReview, actor, now, "Reviewer assigned");
            return;
        }
        history.Add(new ProposalHistoryEntry(Id, now, actor, Status, Status, assigned ? "Reviewer assigned" : "Reviewer unassigned"));
    }

    /// <summary>A reviewer submitted a review; once all assigned reviews are in, the proposal becomes reviewed.</summary>
    public void RecordReviewSubmitted(int submitted, int assigned, Guid reviewer, DateTimeOffset now)
    {
        if (Status != ProposalStatus.InReview)
        {
            throw new DomainException($"Reviews are submitted while a proposal is in review; this proposal is {Describe(Status)}.");
        }
        if (submitted >= assigned)
        {
            Transition(ProposalStatus.ReviewsComplete, reviewer, now, $"All {assigned} reviews submitted");
        }
        else
        {
            history.Add(new ProposalHistoryEntry(Id, now, reviewer, Status, Status, $"Review submitted ({submitted} of {assigned})"));
        }
    }

    public void CompleteReviews(Guid? actor, DateTimeOffset now) => Require(ProposalStatus.InReview, ProposalStatus.ReviewsComplete, actor, now, "All reviews submitted");

    /// <summary>Records a decision without hours (waitlist or decline); see the overload for awards.</summary>
    public void Decide(ProposalDecision decision, Guid actor, DateTimeOffset now, string reason) =>
        Decide(decision, [], actor, now, reason);

    /// <summary>
    /// Records (or, until released, changes) a decision; applicants see it only once it is released.
    /// An award names hours per requested cluster, each within the request.
    /// </summary>
    public void Decide(ProposalDecision decision, IReadOnlyList<AwardedHours> hours, Guid actor, DateTimeOffset now, string message)
    {
        if (Status is not (ProposalStatus.InReview or ProposalStatus.ReviewsComplete) && !(Status == ProposalStatus.Decided && DecisionReleasedAt is null))
        {
            throw new DomainException(DecisionReleasedAt is not null
                ? "The decision was released and can no longer change."
                : $"A decision is recorded after review; this proposal is {Describe(Status)}.");
        }
        message = Limit(message, 4000, "The message").Trim();
        var granted = hours.Where(h => h.Hours > 0).ToList();
        if (decision == ProposalDecision.Awarded)
        {
            if (granted.Count == 0)
            {
                throw new DomainException("An award needs hours on at least one cluster.");
            }
            foreach (var h in granted)
            {
                var request = requests.FirstOrDefault(r => r.ClusterId == h.ClusterId)
                    ?? throw new DomainException("Hours can be awarded only on a cluster the proposal asked for.");
                if (h.Hours > request.RequestedHours)
                {
                    throw new DomainException($"The award on a cluster cannot exceed the {request.RequestedHours.AsHours()} hours requested.");
                }
                if (decimal.Round(h.Hours, 2) != h.Hours)
                {
                    throw new DomainException("Hours are given with at most two decimals.");
                }
            }
            if (granted.Select(h => h.ClusterId).Distinct().Count() != granted.Count)
            {
                throw new DomainException("Each cluster appears once in an award.");
            }
        }
        else if (granted.Count > 0)
        {
            throw new DomainException("Only an award carries hours.");
        }
        if (decision == ProposalDecision.Declined && message.Length == 0)
        {
            throw new DomainException("A decline needs a message to the applicants.");
        }
        Decision = decision;
        DecisionMessage = message;
        awards.Clear();
        if (decision == ProposalDecision.Awarded)
        {
            awards.AddRange(granted.Select(h => new ProposalAward(Id, h.ClusterId, h.Hours)));
        }
        var summary = decision == ProposalDecision.Awarded
            ? $"Decision recorded: Awarded {string.Join(", ", granted.Select(h => h.Hours.AsHours()))} hours"
            : $"Decision recorded: {decision}";
        Transition(ProposalStatus.Decided, actor, now, summary);
    }

    public void ReleaseDecision(Guid actor, DateTimeOffset now)
    {
        if (Status != ProposalStatus.Decided || Decision is null)
        {
            throw new DomainException("There is no recorded decision to release.");
        }
        if (DecisionReleasedAt is not null)
        {
            throw new DomainException("The decision was already released.");
        }
        DecisionReleasedAt = now;
        history.Add(new ProposalHistoryEntry(Id, now, actor, Status, Status, $"Decision released: {Decision}"));
    }

    /// <summary>
    /// The PI accepts a released award; the allocation module then turns it into an allocation. With
    /// <paramref name="listing"/> the PI agrees that the award is listed on the public page, with the summary given.
    /// </summary>
    public void AcceptAward(Guid actor, DateTimeOffset now, PublicListing? listing = null)
    {
        var summary = Limit(listing?.Summary, 2000, "The public summary").Trim();
        if (listing is not null && summary.Length < 20)
        {
            throw new DomainException("Write a public summary of at least 20 characters, or do not list the award publicly.",
                new Dictionary<string, string> { [nameof(PublicSummary)] = "Write at least 20 characters for the public page." });
        }
        RespondToAward(Proposals.AwardResponse.Accepted, actor, now);
        if (listing is not null)
        {
            ListedPublicly = true;
            PublicUsageShown = listing.ShowUsage;
            PublicSummary = summary;
        }
    }

    /// <summary>The PI declines a released award; the hours go back to the program.</summary>
    public void DeclineAward(Guid actor, DateTimeOffset now) => RespondToAward(Proposals.AwardResponse.Declined, actor, now);

    private void RespondToAward(AwardResponse response, Guid actor, DateTimeOffset now)
    {
        if (Decision != ProposalDecision.Awarded || DecisionReleasedAt is null || Status != ProposalStatus.Decided)
        {
            throw new DomainException("Only a released award can be accepted or declined.");
        }
        if (actor != PiUserId)
        {
            throw new DomainException("Only the principal investigator can accept or decline the award.");
        }
        if (AwardResponse is not null)
        {
            throw new DomainException($"The award was already {AwardResponse.Value.ToString().ToLowerInvariant()}.");
        }
        AwardResponse = response;
        AwardRespondedAt = now;
        history.Add(new ProposalHistoryEntry(Id, now, actor, Status, Status, response == Proposals.AwardResponse.Accepted ? "Award accepted" : "Award declined"));
    }

    public bool IsMember(Guid userId) => members.Any(m => m.UserId == userId);

    /// <summary>
    /// Invites a co-investigator by email. Nobody joins by being invited, whether or not the address has an account: the
    /// invited person accepts or declines, signed in with a confirmed account of that address (<see cref="AcceptInvitation"/>).
    /// </summary>
    /// <param name="accountOfEmail">The account that owns the address, if any: only to refuse inviting someone already on the team.</param>
    public ProposalMember InviteCoInvestigator(string email, Guid? accountOfEmail, Guid actor, DateTimeOffset now)
    {
        EnsureTeamChangeBy(actor);
        var normalized = email.Trim().ToUpperInvariant();
        if (members.Any(m => m.InvitedEmailNormalized == normalized || (accountOfEmail is not null && m.UserId == accountOfEmail)))
        {
            throw new DomainException("That person is already on the team or invited.");
        }
        if (members.Count >= 20)
        {
            throw new DomainException("A team has at most 20 members.");
        }
        var member = ProposalMember.Invite(Id, email.Trim(), now);
        members.Add(member);
        history.Add(new ProposalHistoryEntry(Id, now, actor, Status, Status, $"Invited {email.Trim()} as co-investigator"));
        return member;
    }

    /// <summary>
    /// The invited person accepts, signed in with a confirmed account whose address is the invited one
    /// (<paramref name="userNormalizedEmail"/>), and joins the team; only while the proposal is a draft, whose team can change.
    /// </summary>
    public void AcceptInvitation(Guid memberId, Guid userId, string userNormalizedEmail, DateTimeOffset now)
    {
        var member = PendingInvitation(memberId, userNormalizedEmail);
        if (!IsEditable)
        {
            throw new DomainException($"The proposal is {Describe(Status)} and its team is fixed: the invitation can no longer be accepted.");
        }
        if (members.Any(m => m.UserId == userId))
        {
            throw new DomainException("You are already on this proposal's team.");
        }
        member.Join(userId, now);
        history.Add(new ProposalHistoryEntry(Id, now, userId, Status, Status, $"{member.InvitedEmail} accepted the invitation and joined the team"));
    }

    /// <summary>The invited person declines: the invitation goes, and they are never on the team.</summary>
    public void DeclineInvitation(Guid memberId, Guid userId, string userNormalizedEmail, DateTimeOffset now)
    {
        var member = PendingInvitation(memberId, userNormalizedEmail);
        members.Remove(member);
        history.Add(new ProposalHistoryEntry(Id, now, userId, Status, Status, $"{member.InvitedEmail} declined the invitation"));
    }

    private ProposalMember PendingInvitation(Guid memberId, string userNormalizedEmail) =>
        members.FirstOrDefault(m => m.Id == memberId && m.UserId is null && m.InvitedEmailNormalized == userNormalizedEmail)
            ?? throw new DomainException("There is no such invitation for your address: it may have been withdrawn or answered already.");

    public void RemoveMember(Guid memberId, Guid actor, DateTimeOffset now)
    {
        EnsureTeamChangeBy(actor);
        var member = members.FirstOrDefault(m => m.Id == memberId) ?? throw new DomainException("No such team member.");
        if (member.Role == MemberRole.PrincipalInvestigator)
        {
            throw new DomainException("The principal investigator cannot be removed.");
        }
        members.Remove(member);
        history.Add(new ProposalHistoryEntry(Id, now, actor, Status, Status, $"Removed {member.InvitedEmail ?? "a co-investigator"} from the team"));
    }

    private void Require(ProposalStatus from, ProposalStatus to, Guid? actor, DateTimeOffset now, string reason)
    {
        if (Status != from)
        {
            throw new DomainException($"The proposal is {Describe(Status)}; it must be {Describe(from)} to become {Describe(to)}.");
        }
        Transition(to, actor, now, reason);
    }

    private void Transition(ProposalStatus to, Guid? actor, DateTimeOffset now, string reason)
    {
        history.Add(new ProposalHistoryEntry(Id, now, actor, Status, to, reason));
        Status = to;
        UpdatedAt = now;
    }

    /// <summary>The PI alone changes the team, and only while the proposal is a draft.</summary>
    private void EnsureTeamChangeBy(Guid actor)
    {
        EnsureEditable();
        if (actor != PiUserId)
        {
            throw new DomainException("Only the principal investigator can change the team.");
        }
    }

    private void EnsureEditable()
    {
        if (!IsEditable)
        {
            throw new DomainException($"The proposal is {Describe(Status)} and read-only.");
        }
    }

    public static string Describe(ProposalStatus status) => status.AsLowerWords();

    private static List<string> NormalizeKeywords(IEnumerable<string> keywords)
    {
        var result = new List<string>();
        foreach (var k in keywords)
        {
            var keyword = string.Join(' ', (k ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
            if (keyword.Length == 0 || result.Contains(keyword))
            {
                continue;
            }
            if (keyword.Length > 50)
            {
                throw new DomainException("A keyword is at most 50 characters.");
            }
            result.Add(keyword);
        }
        if (result.Count > MaxKeywords)
        {
            throw new DomainException($"At most {MaxKeywords} keywords.");
        }
        return result;
    }

    private static string Limit(string? value, int max, string what)
    {
        value ??= "";
        if (value.Length > max)
        {
            throw new DomainException($"{what} is limited to {max:N0} characters.");
        }
        if (PlainText.HasControlOutsideLines(value))
        {
            throw new DomainException($"{what} contains control characters.");
        }
        return value;
    }
}

[Flags]
public enum PlannedOutputs
{
    None = 0,
    Papers = 1,
    OpenWeights = 2,
    Datasets = 4,
    Code = 8,
}

/// <summary>
/// The editable content of a draft, as a page collects it. The three safety answers (personal data, dual use, human
/// subjects) have no defaults: null is "not answered yet", which submission refuses, so no caller skips the safety track by leaving one out.
/// </summary>
public sealed record ProposalContent(
    string Title,
    string AbstractMarkdown,
    IReadOnlyList<string> Keywords,
    string ResearchField,
    string ComputeJustification,
    bool? UsesPersonalData,
    string PersonalDataDetails,
    bool? HasDualUseRisk,
    string DualUseDetails,
    string Licences,
    PlannedOutputs PlannedOutputs,
    string OutputsDetails,
    IReadOnlyList<RequestedHours> Requests,
    bool? InvolvesHumanSubjects,
    string HumanSubjectsDetails);

public sealed record RequestedHours(Guid ClusterId, decimal Requested, decimal MinimumViable);

public sealed record AwardedHours(Guid ClusterId, decimal Hours);

/// <summary>The PI's consent, given when accepting an award, to list it on the public page of awards.</summary>
public sealed record PublicListing(string Summary, bool ShowUsage);

public enum AwardResponse
{
    Accepted,
    Declined,
}

/// <summary>Hours awarded on one cluster.</summary>
public sealed class ProposalAward
{
    public long Id { get; private set; }

    public Guid ProposalId { get; private set; }

    public Guid ClusterId { get; private set; }

    public decimal Hours { get; private set; }

    private ProposalAward()
    {
    }

    internal ProposalAward(Guid proposalId, Guid clusterId, decimal hours)
    {
        ProposalId = proposalId;
        ClusterId = clusterId;
        Hours = hours;
    }
}

public sealed class ProposalClusterRequest
{
    public Guid ProposalId { get; private set; }

    public Guid ClusterId { get; private set; }

    public decimal RequestedHours { get; private set; }

    public decimal MinimumViableHours { get; private set; }

    private ProposalClusterRequest()
    {
    }

    internal ProposalClusterRequest(Guid proposalId, Guid clusterId, decimal requested, decimal minimum)
    {
        ProposalId = proposalId;
        ClusterId = clusterId;
        Update(requested, minimum);
    }

    internal void Update(decimal requested, decimal minimum)
    {
        RequestedHours = requested;
        MinimumViableHours = minimum;
    }
}

public enum MemberRole
{
    PrincipalInvestigator,
    [Display(Name = "Co-investigator")]
    CoInvestigator,
}

/// <summary>A team member: the PI, or a co-investigator who may still be only an invited email address.</summary>
public sealed class ProposalMember
{
    public Guid Id { get; private set; }

    public Guid ProposalId { get; private set; }

    /// <summary>Null while the invitation waits for the invited person to accept it.</summary>
    public Guid? UserId { get; private set; }

    public MemberRole Role { get; private set; }

    public string? InvitedEmail { get; private set; }

    public string? InvitedEmailNormalized { get; private set; }

    public DateTimeOffset InvitedAt { get; private set; }

    public DateTimeOffset? JoinedAt { get; private set; }

    private ProposalMember()
    {
    }

    internal static ProposalMember Pi(Guid proposalId, Guid userId, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        ProposalId = proposalId,
        UserId = userId,
        Role = MemberRole.PrincipalInvestigator,
        InvitedAt = now,
        JoinedAt = now,
    };

    internal static ProposalMember Invite(Guid proposalId, string email, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        ProposalId = proposalId,
        Role = MemberRole.CoInvestigator,
        InvitedEmail = email,
        InvitedEmailNormalized = email.ToUpperInvariant(),
        InvitedAt = now,
    };

    /// <summary>The invited person accepted (<see cref="Proposal.AcceptInvitation"/>): they join the team.</summary>
    internal void Join(Guid userId, DateTimeOffset now)
    {
        UserId = userId;
        JoinedAt = now;
    }
}

/// <summary>One line of a proposal's timeline. Append-only: the database refuses UPDATE and DELETE.</summary>
public sealed class ProposalHistoryEntry
{
    public long Id { get; private set; }

    public Guid ProposalId { get; private set; }

    public DateTimeOffset At { get; private set; }

    public Guid? ActorUserId { get; private set; }

    public ProposalStatus? FromStatus { get; private set; }

    public ProposalStatus ToStatus { get; private set; }

    public string Reason { get; private set; } = "";

    private ProposalHistoryEntry()
    {
    }

    internal ProposalHistoryEntry(Guid proposalId, DateTimeOffset at, Guid? actor, ProposalStatus? from, ProposalStatus to, string reason)
    {
        ProposalId = proposalId;
        At = at;
        ActorUserId = actor;
        FromStatus = from;
        ToStatus = to;
        Reason = reason.Length > 1000 ? reason[..1000] : reason;
    }
}
