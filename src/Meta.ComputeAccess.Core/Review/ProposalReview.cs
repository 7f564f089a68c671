using Meta.ComputeAccess.Proposals;

namespace Meta.ComputeAccess.Review;

/// <summary>What a reviewer enters on the form; drafts may be incomplete, a submission may not.</summary>
public sealed record ReviewContent(
    IReadOnlyDictionary<Guid, int?> CriterionScores,
    int? Overall,
    int? Confidence,
    IReadOnlyDictionary<Guid, decimal?> RecommendedHours,
    string CommentsForApplicants,
    string ConfidentialComments,
    string RevisionReason = "");

/// <summary>The limits a review is checked against: the rubric, the hours requested and the technical caps.</summary>
public sealed record ReviewLimits(IReadOnlyList<Guid> CriterionIds, IReadOnlyDictionary<Guid, decimal> Requested, IReadOnlyDictionary<Guid, decimal> Caps);

/// <summary>
/// One reviewer's assignment to one proposal and the review they write for it. Created when an admin assigns
/// (by hand or by applying an assignment run); removed only while nothing is submitted.
/// </summary>
public sealed class ProposalReview
{
    private readonly List<CriterionScore> scores = [];
    private readonly List<RecommendedHours> recommendations = [];

    public Guid Id { get; private set; }

    public Guid CallId { get; private set; }

    public Guid ProposalId { get; private set; }

    /// <summary>The reviewed proposal, for the visibility scopes (<see cref="ReviewVisibility"/>); never loaded with a review.</summary>
    internal Proposal Proposal { get; private set; } = null!;

    /// <summary>The review's call, for the visibility scopes (whether it has a response phase); never loaded with a review.</summary>
    internal Calls.Call Call { get; private set; } = null!;

    public Guid ReviewerUserId { get; private set; }

    public DateTimeOffset AssignedAt { get; private set; }

    public Guid AssignedByUserId { get; private set; }

    /// <summary>The assignment run that proposed this pair; null for a manual assignment.</summary>
    public Guid? AssignmentRunId { get; private set; }

    public int? Overall { get; private set; }

    public int? Confidence { get; private set; }

    public string CommentsForApplicants { get; private set; } = "";

    public string ConfidentialComments { get; private set; } = "";

    public DateTimeOffset? SubmittedAt { get; private set; }

    public DateTimeOffset UpdatedAt { get; private set; }

    public DateTimeOffset? DueReminderSentAt { get; private set; }

    public DateTimeOffset? OverdueReminderSentAt { get; private set; }

    /// <summary>When the reviewer first opened the review after the team's response was in (<see cref="ReviewResponses.MarkReadAsync"/>).</summary>
    public DateTimeOffset? ResponseReadAt { get; private set; }

    public uint Version { get; private set; }

    public IReadOnlyList<CriterionScore> Scores => scores;

    public IReadOnlyList<RecommendedHours> Recommendations => recommendations;

    public bool IsSubmitted => SubmittedAt is not null;

    private ProposalReview()
    {
    }

    public static ProposalReview Assign(Guid callId, Guid proposalId, Guid reviewer, Guid admin, Guid? runId, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        CallId = callId,
        ProposalId = proposalId,
        ReviewerUserId = reviewer,
        AssignedAt = now,
        AssignedByUserId = admin,
        AssignmentRunId = runId,
        UpdatedAt = now,
    };

    /// <summary>
    /// Saves the form as it is (a draft), checking only that what is filled in is in range. Problems are refused with a
    /// message per form field (<see cref="DomainException.Fields"/>: <c>Overall</c>, <c>Scores[id]</c>, <c>Hours[id]</c>…).
    /// </summary>
    public void SaveDraft(ReviewContent content, ReviewLimits limits, bool phaseOpen, DateTimeOffset now)
    {
        if (!phaseOpen)
        {
            throw new DomainException("The review phase for this proposal has closed: a decision was recorded.");
        }
        var problems = RangeProblems(content, limits);
        if (problems.Count > 0)
        {
            throw new DomainException("The review cannot be saved as it is: see the messages beside the fields.", problems);
        }
        Apply(content);
        UpdatedAt = now;
    }

    /// <summary>
    /// Submits a complete review before the deadline; a submitted review is then edited (and re-saved complete)
    /// until the phase closes. Returns true when this was the first submission.
    /// </summary>
    public bool Submit(ReviewContent content, ReviewLimits limits, DateTimeOffset? deadline, bool phaseOpen, DateTimeOffset now)
    {
        if (!phaseOpen)
        {
            throw new DomainException("The review phase for this proposal has closed: a decision was recorded.");
        }
        if (!IsSubmitted && deadline is not null && now >= deadline)
        {
            throw new DomainException("The review deadline has passed; ask the program team if you still want to submit.");
        }
        var problems = CompletenessProblems(content, limits);
        if (problems.Count > 0)
        {
            throw new DomainException("The review is not complete: see the messages beside the fields.", problems);
        }
        Apply(content);
        UpdatedAt = now;
        var first = !IsSubmitted;
        SubmittedAt ??= now;
        return first;
    }

    /// <summary>
    /// Changes a submitted review once the applicants could respond (the call's response phase is open or over): the
    /// review must stay complete, and the reviewer says why; the revision keeps the overall score before and after, so the
    /// original stays in the history.
    /// </summary>
    public ReviewRevision Revise(ReviewContent content, ReviewLimits limits, string? reason, bool phaseOpen, DateTimeOffset now)
    {
        if (!phaseOpen)
        {
            throw new DomainException("The review phase for this proposal has closed: a decision was recorded.");
        }
        if (!IsSubmitted)
        {
            throw new DomainException("Only a submitted review is revised; submit it first.");
        }
        var problems = CompletenessProblems(content, limits);
        var why = (reason ?? "").Trim();
        if (why.Length == 0)
        {
            problems.TryAdd(nameof(ReviewContent.RevisionReason), "Say why you revise the review after the applicants' response; the reason is kept with the original score.");
        }
        if (problems.Count > 0)
        {
            throw new DomainException("The revision is not complete: see the messages beside the fields.", problems);
        }
        var from = Overall!.Value;
        Apply(content);
        UpdatedAt = now;
        return new ReviewRevision(this, from, Reasons.Require(why, 2000, "the review's history"), now);
    }

    public void MarkDueReminderSent(DateTimeOffset now) => DueReminderSentAt = now;

    public void MarkOverdueReminderSent(DateTimeOffset now) => OverdueReminderSentAt = now;

    private static Dictionary<string, string> CompletenessProblems(ReviewContent content, ReviewLimits limits)
    {
        var problems = RangeProblems(content, limits);
        foreach (var id in limits.CriterionIds)
        {
            if (content.CriterionScores.GetValueOrDefault(id) is null)
            {
                problems.TryAdd("Scores[" + id + "]", "Score every criterion.");
            }
        }
        if (content.Overall is null)
        {
            problems.TryAdd(nameof(Overall), "Give an overall score from 1 to 10.");
        }
        if (content.Confidence is null)
        {
            problems.TryAdd(nameof(Confidence), "Say how confident you are (1 to 3).");
        }
        foreach (var cluster in limits.Requested.Keys)
        {
            if (content.RecommendedHours.GetValueOrDefault(cluster) is null)
            {
                problems.TryAdd("Hours[" + cluster + "]", "Recommend hours for every requested cluster (0 for none).");
            }
        }
        if (content.CommentsForApplicants.Trim().Length < 20)
        {
            problems.TryAdd(nameof(CommentsForApplicants), "Write comments for the applicants (at least 20 characters).");
        }
        return problems;
    }

    private static Dictionary<string, string> RangeProblems(ReviewContent content, ReviewLimits limits)
    {
        var problems = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, score) in content.CriterionScores)
        {
            if (!limits.CriterionIds.Contains(id))
            {
                problems["Scores"] = "A score names a criterion that is not in this call's rubric.";
            }
            else if (score is < 1 or > 5)
            {
                problems["Scores[" + id + "]"] = "Criteria are scored from 1 to 5.";
            }
        }
        if (content.Overall is < 1 or > 10)
        {
            problems[nameof(Overall)] = "The overall score is from 1 to 10.";
        }
        if (content.Confidence is < 1 or > 3)
        {
            problems[nameof(Confidence)] = "Confidence is from 1 to 3.";
        }
        foreach (var (cluster, hours) in content.RecommendedHours)
        {
            if (hours is null)
            {
                continue;
            }
            var key = "Hours[" + cluster + "]";
            if (!limits.Requested.TryGetValue(cluster, out var requested))
            {
                problems[key] = "Hours can be recommended only on a requested cluster.";
            }
            else if (hours < 0 || decimal.Round(hours.Value, 2) != hours)
            {
                problems[key] = "Hours are a non-negative number with at most two decimals.";
            }
            else if (hours > requested)
            {
                problems[key] = $"At most the {requested.AsHours()} hours requested.";
            }
            else if (limits.Caps.TryGetValue(cluster, out var cap) && hours > cap)
            {
                problems[key] = $"At most the technical cap of {cap.AsHours()} hours.";
            }
        }
        if (content.CommentsForApplicants.Length > 20_000 || content.ConfidentialComments.Length > 20_000)
        {
            problems[nameof(CommentsForApplicants)] = "Comments are limited to 20,000 characters.";
        }
        return problems;
    }

    private void Apply(ReviewContent content)
    {
        scores.Clear();
        foreach (var (id, score) in content.CriterionScores)
        {
            if (score is { } s)
            {
                scores.Add(new CriterionScore(id, s));
            }
        }
        recommendations.Clear();
        foreach (var (cluster, hours) in content.RecommendedHours)
        {
            if (hours is { } h)
            {
                recommendations.Add(new RecommendedHours(cluster, h));
            }
        }
        Overall = content.Overall;
        Confidence = content.Confidence;
        CommentsForApplicants = content.CommentsForApplicants.Trim();
        ConfidentialComments = content.ConfidentialComments.Trim();
    }
}

public sealed class CriterionScore
{
    public long Id { get; private set; }

    public Guid CriterionId { get; private set; }

    public int Score { get; private set; }

    private CriterionScore()
    {
    }

    internal CriterionScore(Guid criterionId, int score)
    {
        CriterionId = criterionId;
        Score = score;
    }
}

public sealed class RecommendedHours
{
    public long Id { get; private set; }

    public Guid ClusterId { get; private set; }

    public decimal Hours { get; private set; }

    private RecommendedHours()
    {
    }

    internal RecommendedHours(Guid clusterId, decimal hours)
    {
        ClusterId = clusterId;
        Hours = hours;
    }
}
