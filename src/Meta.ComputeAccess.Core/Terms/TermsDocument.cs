namespace Meta.ComputeAccess.Terms;

public enum TermsKind
{
    /// <summary>The portal's terms of use: every user accepts the current version before using the portal.</summary>
    TermsOfUse,

    /// <summary>A call's award terms (open outputs, acknowledgement, acceptable use): the PI accepts them with an award.</summary>
    AwardTerms,
}

/// <summary>
/// One published version of the terms of use or of a call's award terms. Append-only: a change is a new version,
/// never an edit, so what someone accepted stays readable as they read it. The newest version is the current one.
/// </summary>
public sealed class TermsDocument
{
    public const int MaxTextLength = 50_000;

    public Guid Id { get; private set; }

    public TermsKind Kind { get; private set; }

    /// <summary>The call, for award terms; null for the terms of use.</summary>
    public Guid? CallId { get; private set; }

    /// <summary>1, 2, … per kind and call.</summary>
    public int Version { get; private set; }

    /// <summary>Markdown, rendered sanitized.</summary>
    public string TextMarkdown { get; private set; } = "";

    /// <summary>What changed, in a line (shown to users asked to accept again).</summary>
    public string Summary { get; private set; } = "";

    public DateTimeOffset PublishedAt { get; private set; }

    public Guid PublishedByUserId { get; private set; }

    private TermsDocument()
    {
    }

    internal static TermsDocument Publish(TermsKind kind, Guid? callId, int version, string? text, string? summary, Guid admin, DateTimeOffset now)
    {
        if (!Enum.IsDefined(kind) || (kind == TermsKind.AwardTerms) != (callId is not null))
        {
            throw new DomainException("Award terms belong to a call; the terms of use to none.");
        }
        text = (text ?? "").Trim();
        summary = (summary ?? "").Trim();
        var problems = new Dictionary<string, string>();
        if (text.Length < 20)
        {
            problems["Text"] = "Write the terms (at least a sentence).";
        }
        else if (text.Length > MaxTextLength)
        {
            problems["Text"] = $"At most {MaxTextLength:N0} characters.";
        }
        if (summary.Length > 500)
        {
            problems["Summary"] = "At most 500 characters.";
        }
        var textHasControl = PlainText.HasControlOutsideLines(text);
        if (textHasControl || PlainText.HasControl(summary))
        {
            problems[textHasControl ? "Text" : "Summary"] = "Plain text only: no control characters.";
        }
        if (problems.Count > 0)
        {
            throw new DomainException("The terms were not published: " + string.Join(" ", problems.Values), problems);
        }
        return new TermsDocument
        {
            Id = Guid.CreateVersion7(now), Kind = kind, CallId = callId, Version = version, TextMarkdown = text, Summary = summary,
            PublishedAt = now, PublishedByUserId = admin,
        };
    }
}

/// <summary>A user accepted a version of the terms of use. Append-only; one row per user and version.</summary>
public sealed class TermsAcceptance
{
    public long Id { get; private set; }

    public Guid UserId { get; private set; }

    public Guid DocumentId { get; private set; }

    public DateTimeOffset AcceptedAt { get; private set; }

    private TermsAcceptance()
    {
    }

    internal static TermsAcceptance Of(Guid userId, Guid documentId, DateTimeOffset now) => new() { UserId = userId, DocumentId = documentId, AcceptedAt = now };
}
