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

/// <summary>
/// A reviewer's declared collaborator (co-author, student, advisor), by email address, whether or not the address has
/// an account: the declaration never tells the reviewer who is registered. Conflict detection matches it to confirmed
/// accounts when reviewers are assigned, and counts it in either direction.
/// </summary>
public sealed class ReviewerCollaborator
{
    public const int MaxPerReviewer = 100;

    public Guid ReviewerUserId { get; private set; }

    /// <summary>The address as the reviewer typed it, shown back to them.</summary>
    public string Email { get; private set; } = "";

    /// <summary>The address as accounts store it (<c>NormalizedEmail</c>), for matching.</summary>
    public string NormalizedEmail { get; private set; } = "";

    public DateTimeOffset DeclaredAt { get; private set; }

    private ReviewerCollaborator()
    {
    }

    /// <param name="email">The address as typed (trimmed).</param>
    /// <param name="normalizedEmail">The same address normalized as accounts are (Identity's lookup normalizer).</param>
    /// <param name="reviewerNormalizedEmail">The reviewer's own address, normalized: nobody is their own collaborator.</param>
    public static ReviewerCollaborator Declare(Guid reviewer, string email, string normalizedEmail, string? reviewerNormalizedEmail, DateTimeOffset now)
    {
        if (!IsAddress(email))
        {
            throw new DomainException("Enter one email address, such as name@university.edu.");
        }
        if (normalizedEmail == reviewerNormalizedEmail)
        {
            throw new DomainException("You cannot declare yourself as a collaborator.");
        }
        return new ReviewerCollaborator { ReviewerUserId = reviewer, Email = email, NormalizedEmail = normalizedEmail, DeclaredAt = now };
    }

    private static bool IsAddress(string email) =>
        email.Length is > 0 and <= 254 && System.Net.Mail.MailAddress.TryCreate(email, out var parsed) && parsed.Address == email;
}
