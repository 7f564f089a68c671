namespace Meta.ComputeAccess.Review;

/// <summary>
/// The team's one response to the reviews of its proposal (the right to reply), written in the call's response phase
/// and never changed afterwards (the table is append-only). Markdown, shown sanitized.
/// </summary>
public sealed class ReviewResponse
{
    public const int MaxLength = 5_000;

    public Guid Id { get; private set; }

    public Guid CallId { get; private set; }

    public Guid ProposalId { get; private set; }

    public Guid AuthorUserId { get; private set; }

    public string TextMarkdown { get; private set; } = "";

    public DateTimeOffset SubmittedAt { get; private set; }

    private ReviewResponse()
    {
    }

    /// <summary>A response of 20 to <see cref="MaxLength"/> characters; problems are refused beside the <c>Text</c> field.</summary>
    public static ReviewResponse Write(Guid callId, Guid proposalId, Guid author, string text, DateTimeOffset now)
    {
        var trimmed = (text ?? "").Trim();
        if (trimmed.Length < 20)
        {
            throw new DomainException("Write a response of at least 20 characters.", new Dictionary<string, string> { ["Text"] = "At least 20 characters." });
        }
        if (trimmed.Length > MaxLength)
        {
            throw new DomainException($"A response is limited to {MaxLength:N0} characters.", new Dictionary<string, string> { ["Text"] = $"At most {MaxLength:N0} characters (this one has {trimmed.Length:N0})." });
        }
        return new ReviewResponse
        {
            Id = Guid.CreateVersion7(now),
            CallId = callId,
            ProposalId = proposalId,
            AuthorUserId = author,
            TextMarkdown = trimmed,
            SubmittedAt = now,
        };
    }
}

/// <summary>
/// A reviewer's change to a submitted review after the applicants could respond: the overall score before and after and
/// the reviewer's reason. Append-only, so the original score stays in the history whatever is revised later.
/// </summary>
public sealed class ReviewRevision
{
    public long Id { get; private set; }

    public Guid ReviewId { get; private set; }

    public Guid ProposalId { get; private set; }

    public Guid ReviewerUserId { get; private set; }

    public DateTimeOffset At { get; private set; }

    public int FromOverall { get; private set; }

    public int ToOverall { get; private set; }

    public string Reason { get; private set; } = "";

    private ReviewRevision()
    {
    }

    internal ReviewRevision(ProposalReview review, int fromOverall, string reason, DateTimeOffset now)
    {
        ReviewId = review.Id;
        ProposalId = review.ProposalId;
        ReviewerUserId = review.ReviewerUserId;
        At = now;
        FromOverall = fromOverall;
        ToOverall = review.Overall!.Value;
        Reason = reason;
    }
}
