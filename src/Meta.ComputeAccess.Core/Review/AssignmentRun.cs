namespace Meta.ComputeAccess.Review;

/// <summary>
/// One automatic assignment: the inputs the solver saw, its settings and seed, and its result, stored as JSON so a
/// run can be inspected and repeated (same inputs, same assignment). The proposed pairs are kept as rows the admin
/// edits before applying; the JSON keeps what the solver itself chose.
/// </summary>
public sealed class AssignmentRun
{
    private readonly List<AssignmentRunPair> pairs = [];

    public Guid Id { get; private set; }

    public Guid CallId { get; private set; }

    public Guid CreatedByUserId { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public int Seed { get; private set; }

    public string SettingsJson { get; private set; } = "{}";

    public string InputsJson { get; private set; } = "{}";

    public string ResultJson { get; private set; } = "{}";

    public long Objective { get; private set; }

    public DateTimeOffset? AppliedAt { get; private set; }

    public Guid? AppliedByUserId { get; private set; }

    public IReadOnlyList<AssignmentRunPair> Pairs => pairs;

    private AssignmentRun()
    {
    }

    public static AssignmentRun Create(Guid callId, Guid admin, int seed, string settingsJson, string inputsJson, string resultJson, long objective,
        IEnumerable<AssignedPair> chosen, DateTimeOffset now)
    {
        var run = new AssignmentRun
        {
            Id = Guid.CreateVersion7(now),
            CallId = callId,
            CreatedByUserId = admin,
            CreatedAt = now,
            Seed = seed,
            SettingsJson = settingsJson,
            InputsJson = inputsJson,
            ResultJson = resultJson,
            Objective = objective,
        };
        foreach (var p in chosen)
        {
            run.pairs.Add(new AssignmentRunPair(run.Id, p.ProposalId, p.ReviewerId, (decimal)Math.Round(p.Affinity, 3), p.Reason, false));
        }
        return run;
    }

    public void AddPair(Guid proposalId, Guid reviewerId, decimal affinity, string reason)
    {
        EnsureDraft();
        if (pairs.Any(p => p.ProposalId == proposalId && p.ReviewerUserId == reviewerId))
        {
            throw new DomainException("That reviewer is already in the proposed assignment for this proposal.");
        }
        pairs.Add(new AssignmentRunPair(Id, proposalId, reviewerId, affinity, reason, true));
    }

    public void RemovePair(Guid proposalId, Guid reviewerId)
    {
        EnsureDraft();
        if (pairs.RemoveAll(p => p.ProposalId == proposalId && p.ReviewerUserId == reviewerId) == 0)
        {
            throw new DomainException("That pair is not in the proposed assignment.");
        }
    }

    public void MarkApplied(Guid admin, DateTimeOffset now)
    {
        EnsureDraft();
        AppliedAt = now;
        AppliedByUserId = admin;
    }

    private void EnsureDraft()
    {
        if (AppliedAt is not null)
        {
            throw new DomainException("This assignment run was already applied; start a new run to change assignments.");
        }
    }
}

/// <summary>A proposed (proposal, reviewer) pair of a run, with its affinity and the reason it was chosen (or "added by an admin").</summary>
public sealed class AssignmentRunPair
{
    public Guid RunId { get; private set; }

    public Guid ProposalId { get; private set; }

    public Guid ReviewerUserId { get; private set; }

    public decimal Affinity { get; private set; }

    public string Reason { get; private set; } = "";

    public bool AddedByAdmin { get; private set; }

    private AssignmentRunPair()
    {
    }

    internal AssignmentRunPair(Guid runId, Guid proposalId, Guid reviewer, decimal affinity, string reason, bool addedByAdmin)
    {
        RunId = runId;
        ProposalId = proposalId;
        ReviewerUserId = reviewer;
        Affinity = affinity;
        Reason = reason.Length > 500 ? reason[..500] : reason;
        AddedByAdmin = addedByAdmin;
    }
}
