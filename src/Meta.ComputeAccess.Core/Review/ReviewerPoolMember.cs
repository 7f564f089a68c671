namespace Meta.ComputeAccess.Review;

/// <summary>A reviewer in a call's pool, with their profile for that call: expertise keywords and the most reviews they take.</summary>
public sealed class ReviewerPoolMember
{
    public const int MaxKeywords = 20;

    public Guid Id { get; private set; }

    public Guid CallId { get; private set; }

    public Guid UserId { get; private set; }

    public List<string> Keywords { get; private set; } = [];

    public int MaxLoad { get; private set; }

    public DateTimeOffset AddedAt { get; private set; }

    private ReviewerPoolMember()
    {
    }

    public static ReviewerPoolMember Create(Guid callId, Guid userId, int maxLoad, DateTimeOffset now)
    {
        var member = new ReviewerPoolMember { Id = Guid.CreateVersion7(now), CallId = callId, UserId = userId, AddedAt = now };
        member.UpdateProfile([], maxLoad);
        return member;
    }

    public void UpdateProfile(IEnumerable<string> keywords, int maxLoad)
    {
        if (maxLoad is < 0 or > 200)
        {
            throw new DomainException("The maximum load is between 0 and 200 reviews.");
        }
        var normalized = new List<string>();
        foreach (var k in keywords)
        {
            var keyword = string.Join(' ', (k ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
            if (keyword.Length == 0 || normalized.Contains(keyword))
            {
                continue;
            }
            if (keyword.Length > 50)
            {
                throw new DomainException("A keyword is at most 50 characters.");
            }
            normalized.Add(keyword);
        }
        if (normalized.Count > MaxKeywords)
        {
            throw new DomainException($"At most {MaxKeywords} expertise keywords.");
        }
        Keywords = normalized;
        MaxLoad = maxLoad;
    }
}

/// <summary>A reviewer's declared collaborator (co-author, student, advisor). Counts as a conflict in either direction.</summary>
public sealed class ReviewerCollaborator
{
    public Guid ReviewerUserId { get; private set; }

    public Guid CollaboratorUserId { get; private set; }

    public DateTimeOffset DeclaredAt { get; private set; }

    private ReviewerCollaborator()
    {
    }

    public static ReviewerCollaborator Declare(Guid reviewer, Guid collaborator, DateTimeOffset now)
    {
        if (reviewer == collaborator)
        {
            throw new DomainException("You cannot declare yourself as a collaborator.");
        }
        return new ReviewerCollaborator { ReviewerUserId = reviewer, CollaboratorUserId = collaborator, DeclaredAt = now };
    }
}
